//! `emit-log` (tutorial 3): its arguments, their checks ([`Emitter`]), and the run.

use std::io::Write;

use common::output::Out;

use super::producer::{Emitter, emit_command, source};
use crate::broker::Broker;
use crate::error::Error;
use crate::tutorials::log_exchange::{Envelope, Kind};
use crate::tutorials::publish_subscribe;

emit_command! {
    /// Tutorial 3: publish a log message to the fanout exchange logs.
    #[argh(subcommand, name = "emit-log")]
    Args,
    "publish_subscribe::EXCHANGE.to_owned()",
    " exchange (default logs)",
    message, " the message (default: info: Hello World!)"
}

/// The options, checked: the words are the message (a fanout exchange takes no routing key).
pub fn check(args: Args) -> Result<Emitter, Error> {
    let e = args.emitting();
    let messages = source(e.command, e.stdin, &e.words, publish_subscribe::MESSAGE)?;
    e.emitter(Kind::Fanout, Envelope::default(), messages)
}

/// Declares the fanout exchange and publishes each message to it.
pub fn run(emitter: Emitter, broker: &Broker, out: &mut Out<impl Write>) -> Result<(), Error> {
    emitter.run(broker, out)
}
