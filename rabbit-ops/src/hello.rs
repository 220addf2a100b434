//! Tutorial 1, "Hello World!": one producer sends a message to the queue `hello` through the
//! default exchange; one consumer prints what arrives.

use std::io::Write;

use amiquip::{Exchange, Publish};
use common::output::Out;

use crate::broker::Broker;
use crate::consume::{Consuming, Ended, ack, printing};
use crate::error::Error;
use crate::queues::{self, Declared, Generation};

/// The tutorial's queue.
pub const QUEUE: &str = "hello";
/// The tutorial's message.
pub const MESSAGE: &str = "Hello World!";
/// What a consumer of a queue prints once it is ready (tutorials 1 and 2).
pub const WAITING: &str = " [*] Waiting for messages. To exit press CTRL+C";

/// How `hello` is declared: a durable quorum queue today, classic non-durable with `--classic`.
pub fn declared(generation: Generation) -> Declared {
    Declared::transient_classic(generation)
}

/// `send`: declares the queue, publishes `message` to it, prints ` [x] Sent 'Hello World!'`.
pub fn send(
    broker: &Broker,
    queue: &str,
    generation: Generation,
    message: &str,
    out: &mut Out<impl Write>,
) -> Result<(), Error> {
    let session = broker.session()?;
    session.within(&format!("declaring queue '{queue}'"), || {
        queues::declare(&session.channel, queue, declared(generation))
    })?;
    Exchange::direct(&session.channel)
        .publish(Publish::new(message.as_bytes(), queue))
        .map_err(|e| Error::amqp(format!("publishing to queue '{queue}'"), e))?;
    out.line(format_args!(" [x] Sent '{message}'"))?;
    session.close()
}

/// `receive`: declares the queue, prints [`WAITING`], then ` [x] Received ...` per message.
///
/// The tutorial consumes with automatic acks; we ack right after printing, so that `--count N`
/// never takes an (N+1)th message off the queue without printing it, and a closed stdout takes
/// nothing it could not print.
pub fn receive(
    run: Consuming<'_>,
    queue: &str,
    generation: Generation,
    out: &mut Out<impl Write>,
) -> Result<Ended, Error> {
    printing(
        run,
        out,
        WAITING,
        |channel| {
            queues::declare(channel, queue, declared(generation))?;
            Ok(queue.to_owned())
        },
        |out, consumer, delivery| {
            let body = String::from_utf8_lossy(&delivery.body);
            out.line(format_args!(" [x] Received {body}"))?;
            ack(consumer, delivery)
        },
    )
}
