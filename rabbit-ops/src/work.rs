//! Tutorial 2, "Work Queues": `new-task` puts tasks on the durable queue `task_queue` as
//! persistent messages; each `worker` takes one task at a time (prefetch 1: fair dispatch),
//! "works" one second per `.` in the message, then acknowledges it, so that a task survives a
//! worker that dies mid-way.

use std::io::Write;
use std::time::Duration;

use amiquip::{AmqpProperties, ConsumerOptions, Exchange, Publish, QueueDeclareOptions};

use crate::broker::{Broker, declare_queue};
use crate::consume::{Ended, Flow, Limits, Stop, consume};
use crate::error::Error;
use crate::say;

/// The tutorial's queue.
pub const QUEUE: &str = "task_queue";
/// The tutorial's default message.
pub const MESSAGE: &str = "Hello World!";
/// AMQP delivery mode of a persistent message.
pub const PERSISTENT: u8 = 2;

fn durable() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    }
}

/// How long a task takes: one `dot` per `.` in it.
pub fn work_time(body: &str, dot: Duration) -> Duration {
    let dots = body.bytes().filter(|&b| b == b'.').count();
    dot.saturating_mul(u32::try_from(dots).unwrap_or(u32::MAX))
}

/// `new-task`: publishes `message` as a persistent message, prints ` [x] Sent ...`.
pub fn new_task(
    broker: &Broker,
    queue: &str,
    message: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let session = broker.session()?;
    declare_queue(&session.channel, queue, durable(), "queue")?;
    let properties = AmqpProperties::default().with_delivery_mode(PERSISTENT);
    Exchange::direct(&session.channel)
        .publish(Publish::with_properties(
            message.as_bytes(),
            queue,
            properties,
        ))
        .map_err(|e| Error::amqp(format!("publishing to queue '{queue}'"), e))?;
    say(out, format_args!(" [x] Sent {message}"))?;
    session.close()
}

/// `worker`: prints ` [x] Received ...`, works, prints ` [x] Done`, acknowledges.
///
/// Ctrl-C during the work leaves the task unacknowledged: the broker gives it to another worker.
pub fn worker(
    broker: &Broker,
    queue: &str,
    dot: Duration,
    limits: Limits,
    stop: &Stop,
    out: &mut dyn Write,
) -> Result<Ended, Error> {
    let session = broker.session()?;
    session.prefetch(1)?;
    let ended = {
        let q = declare_queue(&session.channel, queue, durable(), "queue")?;
        let consumer = q
            .consume(ConsumerOptions::default())
            .map_err(|e| Error::amqp(format!("consuming from queue '{queue}'"), e))?;
        say(
            out,
            format_args!(" [*] Waiting for messages. To exit press CTRL+C"),
        )?;
        consume(consumer, queue, limits, stop, |consumer, delivery| {
            let body = String::from_utf8_lossy(&delivery.body).into_owned();
            say(out, format_args!(" [x] Received {body}"))?;
            if !stop.sleep(work_time(&body, dot)) {
                return Ok(Flow::Stop);
            }
            say(out, format_args!(" [x] Done"))?;
            consumer
                .ack(delivery)
                .map_err(|e| Error::amqp("acknowledging a message", e))?;
            Ok(Flow::Continue)
        })?
    };
    session.close()?;
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_dot_one_unit_of_work() {
        let s = Duration::from_secs(1);
        assert_eq!(work_time("Hello World!", s), Duration::ZERO);
        assert_eq!(work_time("First message.", s), s);
        assert_eq!(work_time("Fifth message.....", s), 5 * s);
        assert_eq!(
            work_time("...", Duration::from_millis(10)),
            Duration::from_millis(30)
        );
    }
}
