//! `emit-log-topic` (tutorial 5): its arguments, their checks ([`Emitter`]), and the run.

use std::io::Write;

use common::output::Out;

use super::producer::{Emitter, emit_command};
use crate::broker::Broker;
use crate::error::Error;
use crate::tutorials::log_exchange::Kind;
use crate::tutorials::topics;

emit_command! {
    /// Tutorial 5: publish a message with a routing key to the topic exchange topic_logs.
    #[argh(
        subcommand,
        name = "emit-log-topic",
        note = "Differs from the official emit_log_topic.py: a lone argument is the routing key (emit_log_topic.py ignores it and sends anonymous.info)."
    )]
    Args,
    "topics::EXCHANGE.to_owned()",
    " exchange (default topic_logs)",
    words,
    " the routing key (default anonymous.info), then the message (default: Hello World!)"
}

/// The options, checked: the first word is the routing key, even alone; the rest the message.
pub fn check(args: Args) -> Result<Emitter, Error> {
    args.emitting()
        .keyed(Kind::Topic, topics::ROUTING_KEY, topics::MESSAGE)
}

/// Declares the topic exchange and publishes each message to it with the routing key.
pub fn run(emitter: Emitter, broker: &Broker, out: &mut Out<impl Write>) -> Result<(), Error> {
    emitter.run(broker, out)
}
