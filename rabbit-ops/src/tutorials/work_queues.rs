//! Tutorial 2, "Work Queues": `new-task` puts tasks on the durable queue `task_queue` as
//! persistent messages; each `worker` takes one task at a time (prefetch 1: fair dispatch),
//! "works" one second per `.` in the message, then acknowledges it, so that a task survives a
//! worker that dies mid-way.

use std::io::Write;
use std::time::Duration;

use amiquip::AmqpProperties;
use common::output::Out;

use crate::broker::Broker;
use crate::consume::{Consuming, Ended, Flow};
use crate::error::Error;
use crate::publish::{self, Messages, Outgoing, PERSISTENT, Publisher};
use crate::queues::{self, Declared, Generation, Named};

/// The tutorial's queue.
pub const QUEUE: &str = "task_queue";
/// The tutorial's default message.
pub const MESSAGE: &str = "Hello World!";
/// What a worker prints once it is ready.
pub const WAITING: &str = " [*] Waiting for messages. To exit press CTRL+C";

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
    queue: &Named,
    tasks: Messages,
    options: publish::Options,
    out: &mut Out<impl Write>,
) -> Result<publish::Published, Error> {
    let persistent = AmqpProperties::default().with_delivery_mode(PERSISTENT);
    let publisher = Publisher::new(broker, options, |channel| {
        queues::declare(channel, &queue.name, task_queue(queue.generation)).map(drop)
    })?;
    publisher.send_all(tasks, out, |task| {
        let line = format!(" [x] Sent {task}");
        (
            Outgoing::to_queue(&queue.name, task, persistent.clone()),
            line,
        )
    })
}

/// `worker`: prints ` [x] Received ...`, works, prints ` [x] Done`, acknowledges (a task whose
/// Done line could not be printed, stdout being closed, is not acknowledged).
///
/// Ctrl-C during the work leaves the task unacknowledged: the broker gives it to another worker.
/// A lost connection is recovered (see [`crate::consume::recovering`]); the task being worked
/// on then comes back from the broker, so it may be done twice.
pub fn worker(
    run: Consuming<'_>,
    queue: &Named,
    dot: Duration,
    out: &mut Out<impl Write>,
) -> Result<Ended, Error> {
    let tasks = (queue.name.as_str(), task_queue(queue.generation));
    // Prefetch 1: a busy worker gets no new task (fair dispatch).
    queues::receive(run, out, tasks, Some(1), WAITING, |out, task| {
        if !run.stop.sleep(work_time(task, dot)) {
            return Ok(Flow::Stop);
        }
        out.line(format_args!(" [x] Done"))?;
        Ok(Flow::Continue)
    })
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
