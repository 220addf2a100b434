//! `worker` (tutorial 2): its arguments, their checks, and the run.

use std::io::Write;
use std::time::Duration;

use argh::{FromArgs, SubCommand};
use common::cli::positive_secs;
use common::output::Out;

use super::consumer::{limits, until_stopped};
use super::names;
use super::values::{millis, positive, task_generation};
use crate::broker::Broker;
use crate::consume::Limits;
use crate::error::Error;
use crate::queues::Named;
use crate::tutorials::work_queues;

/// Tutorial 2: take tasks one at a time from task_queue, work, acknowledge.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "worker")]
pub struct Args {
    /// queue (default task_queue)
    #[argh(option, default = "work_queues::QUEUE.to_owned()")]
    pub queue: String,
    /// a quorum queue: the default (kept for scripts written before it was)
    #[argh(switch)]
    pub quorum: bool,
    /// declare the queue as the tutorials did before 2026 (classic, not quorum): for brokers
    /// without quorum queues or a queue left by an older run
    #[argh(switch)]
    pub classic: bool,
    /// milliseconds of work per '.' in a task (default 1000)
    #[argh(option, default = "Duration::from_secs(1)", from_str_fn(millis))]
    pub dot_ms: Duration,
    /// exit 0 after N tasks
    #[argh(option, from_str_fn(positive))]
    pub count: Option<u64>,
    /// exit 1 when no task arrives for SECS seconds
    #[argh(option, from_str_fn(positive_secs))]
    pub timeout: Option<Duration>,
}

/// The options, checked: `--quorum` or `--classic`, the queue's name.
pub fn check(args: Args) -> Result<Options, Error> {
    let generation = task_generation(Args::COMMAND.name, args.quorum, args.classic)?;
    Ok(Options {
        queue: names::queue(Args::COMMAND.name, args.queue, generation)?,
        dot: args.dot_ms,
        limits: limits(args.count, args.timeout),
    })
}

/// How to work, checked.
#[derive(Debug)]
pub struct Options {
    /// `--queue`, and `--classic` or not.
    pub queue: Named,
    /// The work per '.' of a task.
    pub dot: Duration,
    /// `--count` and `--timeout`.
    pub limits: Limits,
}

/// Works on the tasks of the queue until `--count`, `--timeout` or Ctrl-C
/// ([`work_queues::worker`]).
pub fn run(options: Options, broker: &Broker, out: &mut Out<impl Write>) -> Result<(), Error> {
    let Options { queue, dot, limits } = options;
    until_stopped(broker, limits, |run| {
        work_queues::worker(run, &queue, dot, out)
    })
}
