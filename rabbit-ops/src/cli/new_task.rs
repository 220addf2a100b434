//! `new-task` (tutorial 2): its arguments, their checks, and the run.

use std::io::Write;
use std::time::Duration;

use argh::{FromArgs, SubCommand};
use common::cli::positive_secs;
use common::output::Out;

use super::names;
use super::producer::{Source, source};
use super::values::task_generation;
use crate::broker::Broker;
use crate::error::Error;
use crate::publish;
use crate::queues::Named;
use crate::tutorials::work_queues;

/// Tutorial 2: put a persistent task on the durable quorum queue task_queue.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "new-task",
    note = "Differs from the official new_task.py: each task is confirmed by the broker (publisher confirms, mandatory, a message_id per message); --no-confirm publishes as new_task.py does. --classic: the queue as declared before 2026 (classic, durable)."
)]
#[allow(clippy::struct_excessive_bools)] // one per switch
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
    /// do not wait for publisher confirms (a task lost with the connection goes unnoticed)
    #[argh(switch)]
    pub no_confirm: bool,
    /// read tasks from stdin, one per line, instead of the arguments
    #[argh(switch)]
    pub stdin: bool,
    /// seconds to keep reconnecting and waiting for confirms before giving up (default 60)
    #[argh(
        option,
        default = "Duration::from_secs(60)",
        from_str_fn(positive_secs)
    )]
    pub retry_for: Duration,
    /// the task; each '.' is a second of work (default: Hello World!)
    #[argh(positional, greedy)]
    pub message: Vec<String>,
}

/// The options, checked: the tasks (`--stdin` or the words), `--quorum` or `--classic`, the
/// queue's name.
pub fn check(args: Args) -> Result<Options, Error> {
    let command = Args::COMMAND.name;
    let tasks = source(command, args.stdin, &args.message, work_queues::MESSAGE)?;
    let generation = task_generation(command, args.quorum, args.classic)?;
    Ok(Options {
        queue: names::queue(command, args.queue, generation)?,
        publish: publish::Options {
            confirm: !args.no_confirm,
            retry_for: args.retry_for,
        },
        tasks,
    })
}

/// The tasks to put on the queue, checked.
#[derive(Debug)]
pub struct Options {
    /// `--queue`, and `--classic` or not.
    pub queue: Named,
    /// Confirms (unless `--no-confirm`) and `--retry-for`.
    pub publish: publish::Options,
    /// The tasks: the words, or stdin.
    pub tasks: Source,
}

/// Declares the queue and publishes each task, confirmed by default
/// ([`work_queues::new_task`]).
pub fn run(options: Options, broker: &Broker, out: &mut Out<impl Write>) -> Result<(), Error> {
    let tasks = options.tasks.messages();
    work_queues::new_task(broker, &options.queue, tasks, options.publish, out).map(drop)
}
