//! `emit-log-direct` (tutorial 4): its arguments, their checks ([`Emitter`]), and the run.

use std::io::Write;

use common::output::Out;

use super::producer::{Emitter, emit_command};
use crate::broker::Broker;
use crate::error::Error;
use crate::tutorials::log_exchange::Kind;
use crate::tutorials::routing;

emit_command! {
    /// Tutorial 4: publish a message with a severity to the direct exchange direct_logs.
    #[argh(subcommand, name = "emit-log-direct")]
    Args,
    "routing::EXCHANGE.to_owned()",
    " exchange (default direct_logs)",
    words, " the severity (default info), then the message (default: Hello World!)"
}

/// The options, checked: the first word is the severity (the routing key), the rest the
/// message.
pub fn check(args: Args) -> Result<Emitter, Error> {
    let emitting = args.emitting();
    emitting.keyed(Kind::Direct, routing::SEVERITY, routing::MESSAGE)
}

/// Declares the direct exchange and publishes each message to it with the severity.
pub fn run(emitter: Emitter, broker: &Broker, out: &mut Out<impl Write>) -> Result<(), Error> {
    emitter.run(broker, out)
}
