//! Tutorial 1, "Hello World!": one producer sends a message to the queue `hello` through the
//! default exchange; one consumer prints what arrives.

use std::io::Write;

use amiquip::AmqpProperties;
use common::output::Out;

use crate::broker::Broker;
use crate::consume::{Consuming, Ended, Flow};
use crate::error::Error;
use crate::publish::{self, Messages, Outgoing, Publisher};
use crate::queues::{self, Declared, Generation, Named};

/// The tutorial's queue.
pub const QUEUE: &str = "hello";
/// The tutorial's message.
pub const MESSAGE: &str = "Hello World!";
/// What the consumer prints once it is ready.
pub const WAITING: &str = " [*] Waiting for messages. To exit press CTRL+C";

/// How `hello` is declared: a durable quorum queue today, classic non-durable with `--classic`.
pub fn declared(generation: Generation) -> Declared {
    Declared::transient_classic(generation)
}

/// `send`: declares the queue, publishes `message` to it, prints ` [x] Sent 'Hello World!'`.
///
/// It publishes through the one [`Publisher`], as the tutorial does: no confirms, and a lost
/// connection is the error ([`publish::Options::ONCE`]).
pub fn send(
    broker: &Broker,
    queue: &Named,
    message: &str,
    out: &mut Out<impl Write>,
) -> Result<(), Error> {
    let Named { name, generation } = queue;
    let declaring = format!("declaring queue '{name}'");
    let publisher = Publisher::setting_up(broker, publish::Options::ONCE, declaring, |channel| {
        queues::declare(channel, name, declared(*generation)).map(drop)
    })?;
    let sent = publisher.send_all(Messages::one(message), out, |message| {
        let line = format!(" [x] Sent '{message}'");
        (
            Outgoing::to_queue(name, message, AmqpProperties::default()),
            line,
        )
    });
    sent.map(drop)
}

/// `receive`: declares the queue, prints [`WAITING`], then ` [x] Received ...` per message.
///
/// The tutorial consumes with automatic acks; we ack right after printing, so that `--count N`
/// never takes an (N+1)th message off the queue without printing it, and a closed stdout takes
/// nothing it could not print.
pub fn receive(
    run: Consuming<'_>,
    queue: &Named,
    out: &mut Out<impl Write>,
) -> Result<Ended, Error> {
    let hello = (queue.name.as_str(), declared(queue.generation));
    queues::receive(run, out, hello, None, WAITING, |_, _| Ok(Flow::Continue))
}
