//! Tutorial 2, "Work Queues": `new-task` puts tasks on the durable queue `task_queue` as
//! persistent messages; each `worker` takes one task at a time (prefetch 1: fair dispatch),
//! "works" one second per `.` in the message, then acknowledges it, so that a task survives a
//! worker that dies mid-way.

use std::io::Write;
use std::time::Duration;

use amiquip::AmqpProperties;
use common::output::Out;

use crate::broker::Broker;
use crate::consume::{Consuming, Ended, Flow, ack, printing};
use crate::error::Error;
use crate::hello::WAITING;
use crate::publish::{self, Messages, Outgoing, Publisher};
use crate::queues::{self, Declared, Generation};

/// The tutorial's queue.
pub const QUEUE: &str = "task_queue";
/// The tutorial's default message.
pub const MESSAGE: &str = "Hello World!";
/// AMQP delivery mode of a persistent message.
pub const PERSISTENT: u8 = 2;

/// How `task_queue` is declared: a durable quorum queue today (replicated over the nodes of a
/// cluster), classic and durable with `--classic`. Producers and workers must agree.
pub fn task_queue(generation: Generation) -> Declared {
    Declared::durable_classic(generation)
}

/// How long a task takes: one `dot` per `.` in it.
pub fn work_time(body: &str, dot: Duration) -> Duration {
    let dots = body.bytes().filter(|&b| b == b'.').count();
    dot.saturating_mul(u32::try_from(dots).unwrap_or(u32::MAX))
}

/// `new-task`: publishes each task as a persistent message, prints ` [x] Sent ...` for each.
///
/// With confirms (the default) every task is confirmed by the broker before this returns, and
/// tasks not confirmed when the connection is lost are published again after reconnecting.
pub fn new_task(
    broker: &Broker,
    queue: &str,
    generation: Generation,
    options: publish::Options,
    tasks: Messages,
    out: &mut Out<impl Write>,
) -> Result<publish::Published, Error> {
    let publisher = Publisher::new(broker, options, |channel| {
        queues::declare(channel, queue, task_queue(generation)).map(drop)
    })?;
    publisher.send_all(tasks, out, |task| {
        let line = format!(" [x] Sent {task}");
        let message = Outgoing {
            exchange: String::new(),
            routing_key: queue.to_owned(),
            body: task.into_bytes(),
            properties: AmqpProperties::default().with_delivery_mode(PERSISTENT),
        };
        (message, line)
    })
}

/// `worker`: prints ` [x] Received ...`, works, prints ` [x] Done`, acknowledges (a task whose
/// Done line could not be printed, stdout being closed, is not acknowledged).
///
/// Ctrl-C during the work leaves the task unacknowledged: the broker gives it to another worker.
/// A lost connection is recovered (see [`crate::consume::recovering`]); the task being worked on then comes
/// back from the broker, so it may be done twice.
pub fn worker(
    run: Consuming<'_>,
    queue: &str,
    generation: Generation,
    dot: Duration,
    out: &mut Out<impl Write>,
) -> Result<Ended, Error> {
    printing(
        run,
        out,
        WAITING,
        |channel| {
            channel
                .qos(0, 1, false)
                .map_err(|e| Error::amqp("setting prefetch to 1", e))?;
            queues::declare(channel, queue, task_queue(generation))?;
            Ok(queue.to_owned())
        },
        |out, consumer, delivery| {
            let body = String::from_utf8_lossy(&delivery.body).into_owned();
            out.line(format_args!(" [x] Received {body}"))?;
            if !run.stop.sleep(work_time(&body, dot)) {
                return Ok(Flow::Stop);
            }
            out.line(format_args!(" [x] Done"))?;
            ack(consumer, delivery)
        },
    )
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
