//! `emit-log-headers` (the headers exchange): its arguments, their checks ([`Emitter`]), and
//! the run.

use std::io::Write;

use common::output::Out;

use super::producer::{Emitter, emit_command, source};
use super::values::check_header_names;
use crate::broker::Broker;
use crate::error::Error;
use crate::tutorials::headers;
use crate::tutorials::log_exchange::{Envelope, Kind};

emit_command! {
    /// Beyond the tutorials: publish a message with headers to the headers exchange headers_logs.
    #[argh(subcommand, name = "emit-log-headers")]
    Args,
    "headers::EXCHANGE.to_owned()",
    " exchange (default headers_logs)",
    words, " KEY=VALUE headers, then the message (default: Hello World!)"
}

/// The options, checked: the leading `KEY=VALUE` words are the headers, the rest the message.
pub fn check(args: Args) -> Result<Emitter, Error> {
    let e = args.emitting();
    let (pairs, rest) = split_headers(e.command, &e.words)?;
    let messages = source(e.command, e.stdin, rest, headers::MESSAGE)?;
    let envelope = Envelope {
        routing_key: String::new(),
        headers: pairs,
    };
    e.emitter(Kind::Headers, envelope, messages)
}

/// Declares the headers exchange and publishes each message to it with the headers.
pub fn run(emitter: Emitter, broker: &Broker, out: &mut Out<impl Write>) -> Result<(), Error> {
    emitter.run(broker, out)
}

/// Headers set by the user: `KEY=VALUE` pairs.
type Headers = Vec<(String, String)>;

/// Splits `KEY=VALUE... MESSAGE...` words: the leading pairs are headers.
fn split_headers<'w>(
    command: &'static str,
    words: &'w [String],
) -> Result<(Headers, &'w [String]), Error> {
    let mut headers = Vec::new();
    let mut rest = words;
    while let Some((first, tail)) = rest.split_first() {
        match headers::parse_header(first) {
            Some(pair) => headers.push(pair),
            None => break,
        }
        rest = tail;
    }
    check_header_names(command, &headers)?;
    Ok((headers, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_pairs_are_headers() {
        let words: Vec<String> = ["format=pdf", "type=report", "a", "b=c"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let (h, rest) = split_headers("emit-log-headers", &words).unwrap();
        assert_eq!(
            h,
            [
                ("format".into(), "pdf".into()),
                ("type".into(), "report".into())
            ]
        );
        assert_eq!(rest, ["a", "b=c"]);
    }
}
