//! `ping`: its arguments, the checked options ([`ping::Options`]), and the run.

use std::io::Write;
use std::time::Duration;

use argh::{FromArgs, SubCommand};
use common::cli::positive_secs;
use common::output::Out;

use super::global::Global;
use super::streams::endpoints;
use crate::error::Error;
use crate::ping;
use crate::streams::ping as stream_ping;
use crate::streams::url::is_stream_url;

/// For CI: is every node ready? A real round trip (an exclusive queue, a confirmed message,
/// consumed and compared), one line per --url; exit 1 if any fails.
#[derive(FromArgs, Debug, Clone, Copy)]
#[argh(
    subcommand,
    name = "ping",
    example = "Wait up to a minute for the broker, then go on:\n$ rabbit-ops --url amqp://guest:guest@127.0.0.1:5672/%2f ping --wait 60",
    note = "A node still booting (nothing listening, the connection closed) is tried again until --wait runs out; bad credentials, a missing vhost or a peer that is not AMQP fail at once. --json prints {{\"target\", \"ok\", \"server\", \"round_trip_ms\", \"attempts\", \"waited_s\", \"error\"}} per node."
)]
pub struct Args {
    /// keep trying (with a backoff) until every node passes or SECS have gone (default: one
    /// try)
    #[argh(option, from_str_fn(positive_secs))]
    pub wait: Option<Duration>,
    /// seconds one attempt may take, connection included (default 5)
    #[argh(option, default = "Duration::from_secs(5)", from_str_fn(positive_secs))]
    pub timeout: Duration,
    /// one JSON object per node and line
    #[argh(switch)]
    pub json: bool,
}

/// What `ping` checks: AMQP nodes, or stream nodes (`rabbitmq-stream://` URLs).
#[derive(Debug)]
pub enum Options {
    /// `amqp://` and `amqps://` URLs.
    Amqp(ping::Options),
    /// `rabbitmq-stream://` and `rabbitmq-stream+tls://` URLs.
    Stream(stream_ping::Options),
}

/// What to check: every node of `global`, as given, with its TLS settings (the URLs parsed
/// and the TLS files read first, as for every command). Stream URLs are checked with a
/// stream round trip ([`stream_ping`]); one run checks AMQP or stream nodes, not both.
pub fn check(args: Args, global: &Global) -> Result<Options, Error> {
    if global.given.iter().any(|u| is_stream_url(u)) {
        let command = Args::COMMAND.name;
        if let Some(other) = global.given.iter().find(|u| !is_stream_url(u)) {
            return Err(Error::usage(
                command,
                format!(
                    "ping checks amqp:// or rabbitmq-stream:// URLs, not both in one run: '{}'",
                    common::redact::redact_url(other)
                ),
            ));
        }
        return Ok(Options::Stream(stream_ping::Options {
            targets: endpoints(command, global, &global.given)?,
            timeout: args.timeout,
            wait: args.wait,
            json: args.json,
        }));
    }
    let broker = global.broker()?;
    Ok(Options::Amqp(ping::Options {
        targets: global.urls.clone(),
        connect_timeout: global.connect_timeout,
        timeout: args.timeout,
        wait: args.wait,
        json: args.json,
        tls: broker.tls().cloned(),
    }))
}

/// Checks every node and prints one line (or JSON object) each ([`ping::run`],
/// [`stream_ping::run`]).
pub fn run(options: &Options, out: &mut Out<impl Write>) -> Result<(), Error> {
    match options {
        Options::Amqp(o) => ping::run(o, out),
        Options::Stream(o) => stream_ping::run(o, out),
    }
}
