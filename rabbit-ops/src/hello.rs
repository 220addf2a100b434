//! Tutorial 1, "Hello World!": one producer sends a message to the queue `hello` through the
//! default exchange; one consumer prints what arrives.

use std::io::Write;

use amiquip::{Exchange, Publish, QueueDeclareOptions};

use crate::broker::{Broker, declare_queue};
use crate::consume::{Ended, Flow, Limits, Stop, recovering};
use crate::error::Error;
use crate::say;

/// The tutorial's queue.
pub const QUEUE: &str = "hello";
/// The tutorial's message.
pub const MESSAGE: &str = "Hello World!";

/// `send`: declares the queue, publishes `message` to it, prints ` [x] Sent 'Hello World!'`.
pub fn send(broker: &Broker, queue: &str, message: &str, out: &mut dyn Write) -> Result<(), Error> {
    let session = broker.session()?;
    declare_queue(
        &session.channel,
        queue,
        QueueDeclareOptions::default(),
        "queue",
    )?;
    Exchange::direct(&session.channel)
        .publish(Publish::new(message.as_bytes(), queue))
        .map_err(|e| Error::amqp(format!("publishing to queue '{queue}'"), e))?;
    say(out, format_args!(" [x] Sent '{message}'"))?;
    session.close()
}

/// `receive`: declares the queue, prints ` [*] Waiting for messages. To exit press CTRL+C`, then
/// ` [x] Received '...'` per message.
///
/// The tutorial consumes with automatic acks; we ack right after printing, so that `--count N`
/// never takes an (N+1)th message off the queue without printing it.
pub fn receive(
    broker: &Broker,
    queue: &str,
    limits: Limits,
    stop: &Stop,
    out: &mut dyn Write,
) -> Result<Ended, Error> {
    let out = std::cell::RefCell::new(out);
    recovering(
        broker,
        limits,
        stop,
        |channel| {
            declare_queue(channel, queue, QueueDeclareOptions::default(), "queue")?;
            Ok(queue.to_owned())
        },
        || {
            say(
                &mut **out.borrow_mut(),
                format_args!(" [*] Waiting for messages. To exit press CTRL+C"),
            )
        },
        |consumer, delivery| {
            let body = String::from_utf8_lossy(&delivery.body).into_owned();
            say(
                &mut **out.borrow_mut(),
                format_args!(" [x] Received '{body}'"),
            )?;
            consumer
                .ack(delivery)
                .map_err(|e| Error::amqp("acknowledging a message", e))?;
            Ok(Flow::Continue)
        },
    )
}
