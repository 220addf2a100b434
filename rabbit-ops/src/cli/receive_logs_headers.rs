//! `receive-logs-headers` (the headers exchange): its arguments, their checks
//! ([`LogReceiver`]), and the run.

use std::io::Write;
use std::time::Duration;

use argh::{FromArgs, SubCommand};
use common::cli::positive_secs;
use common::output::Out;

use super::consumer::{LogReceiver, limits};
use super::values::{check_header_names, positive};
use crate::broker::Broker;
use crate::error::Error;
use crate::tutorials::headers;
use crate::tutorials::log_exchange::{Binding, Kind};

/// Beyond the tutorials: print the messages of headers_logs whose headers match.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "receive-logs-headers")]
pub struct Args {
    /// exchange (default headers_logs)
    #[argh(option, default = "headers::EXCHANGE.to_owned()")]
    pub exchange: String,
    /// x-match: all (every header must match, the default) or any (one is enough)
    #[argh(option, long = "match", default = "String::from(\"all\")")]
    pub match_: String,
    /// exit 0 after N messages
    #[argh(option, from_str_fn(positive))]
    pub count: Option<u64>,
    /// exit 1 when no message arrives for SECS seconds
    #[argh(option, from_str_fn(positive_secs))]
    pub timeout: Option<Duration>,
    /// KEY=VALUE headers to match
    #[argh(positional)]
    pub headers: Vec<String>,
}

/// The options, checked: one binding, `--match all|any` and at least one `KEY=VALUE`.
pub fn check(args: Args) -> Result<LogReceiver, Error> {
    let command = Args::COMMAND.name;
    let binding = binding(command, &args.match_, &args.headers)?;
    let limits = limits(args.count, args.timeout);
    LogReceiver::new(command, Kind::Headers, args.exchange, vec![binding], limits)
}

/// Binds a queue of its own to the headers exchange, then prints the messages whose headers
/// match until `--count`, `--timeout` or Ctrl-C.
pub fn run(receiver: LogReceiver, broker: &Broker, out: &mut Out<impl Write>) -> Result<(), Error> {
    receiver.run(broker, out)
}

/// The binding of `receive-logs-headers`: `--match all|any` and at least one `KEY=VALUE`.
fn binding(command: &'static str, match_: &str, words: &[String]) -> Result<Binding, Error> {
    let any = match match_ {
        "all" => false,
        "any" => true,
        other => {
            return Err(Error::usage(
                command,
                format!("--match must be all or any, not '{other}'"),
            ));
        }
    };
    if words.is_empty() {
        return Err(Error::usage(
            command,
            "no header to match: give at least one KEY=VALUE, like format=pdf",
        ));
    }
    let mut pairs = Vec::with_capacity(words.len());
    for w in words {
        match headers::parse_header(w) {
            Some(pair) => pairs.push(pair),
            None => {
                return Err(Error::usage(
                    command,
                    format!("'{w}' is not a header to match: write KEY=VALUE, like format=pdf"),
                ));
            }
        }
    }
    check_header_names(command, &pairs)?;
    Ok(Binding {
        key: String::new(),
        arguments: headers::binding_arguments(&pairs, any),
    })
}
