//! `publisher-confirms` (tutorial 7): its arguments, their checks, and the run.

use std::io::Write;
use std::time::Duration;

use argh::{FromArgs, SubCommand};
use common::cli::positive_secs;
use common::output::Out;

use super::names;
use super::values::{MAX_MESSAGES, at_most, positive};
use crate::broker::Broker;
use crate::error::Error;
use crate::tutorials::publisher_confirms;

/// Tutorial 7: publish with confirms three ways (individually, in batches, asynchronously).
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "publisher-confirms")]
pub struct Args {
    /// messages per strategy (default 10000, at most 100000000)
    #[argh(
        option,
        default = "publisher_confirms::MESSAGES",
        from_str_fn(positive)
    )]
    pub messages: u64,
    /// publish into this queue (kept) instead of a temporary queue per strategy
    #[argh(option)]
    pub queue: Option<String>,
    /// seconds to wait for outstanding confirms (default 60)
    #[argh(
        option,
        default = "Duration::from_secs(60)",
        from_str_fn(positive_secs)
    )]
    pub timeout: Duration,
}

/// The options, checked: `--messages` within its bound, the name of `--queue`.
pub fn check(args: Args) -> Result<Options, Error> {
    let command = Args::COMMAND.name;
    let messages = at_most(command, "--messages", args.messages, MAX_MESSAGES)?;
    let queue = args.queue.as_deref().map(|q| ("--queue", q));
    names::check(command, queue.as_slice())?;
    Ok(Options {
        messages,
        queue: args.queue,
        timeout: args.timeout,
    })
}

/// The three runs, checked.
#[derive(Debug)]
pub struct Options {
    /// Messages per strategy, 1 to [`MAX_MESSAGES`].
    pub messages: u64,
    /// The queue kept, if any (else a temporary one per strategy).
    pub queue: Option<String>,
    /// How long to wait for outstanding confirms.
    pub timeout: Duration,
}

/// Publishes with each strategy in turn and prints how long it took
/// ([`publisher_confirms::run`]).
pub fn run(options: Options, broker: &Broker, out: &mut Out<impl Write>) -> Result<(), Error> {
    let Options {
        messages,
        queue,
        timeout,
    } = options;
    publisher_confirms::run(broker, messages, queue.as_deref(), timeout, out).map(drop)
}
