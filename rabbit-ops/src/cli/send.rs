//! `send` (tutorial 1): its arguments, their checks, and the run.

use std::io::Write;

use argh::{FromArgs, SubCommand};
use common::output::Out;

use super::names;
use super::producer::message;
use super::values::generation;
use crate::broker::Broker;
use crate::error::Error;
use crate::queues::Named;
use crate::tutorials::hello_world;

/// Tutorial 1: send 'Hello World!' to the queue hello (a durable quorum queue).
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "send")]
pub struct Args {
    /// queue (default hello)
    #[argh(option, default = "hello_world::QUEUE.to_owned()")]
    pub queue: String,
    /// declare the queue as the tutorials did before 2026 (classic, not quorum): for brokers
    /// without quorum queues or a queue left by an older run
    #[argh(switch)]
    pub classic: bool,
    /// the message (default: Hello World!)
    #[argh(positional, greedy)]
    pub message: Vec<String>,
}

/// The options, checked: the queue's name.
pub fn check(args: Args) -> Result<Options, Error> {
    let generation = generation(args.classic);
    Ok(Options {
        queue: names::queue(Args::COMMAND.name, args.queue, generation)?,
        message: message(&args.message, hello_world::MESSAGE),
    })
}

/// What to send, checked.
#[derive(Debug)]
pub struct Options {
    /// `--queue`, and `--classic` or not.
    pub queue: Named,
    /// The words, else the tutorial's message.
    pub message: String,
}

/// Declares the queue and sends the message ([`hello_world::send`]).
pub fn run(options: Options, broker: &Broker, out: &mut Out<impl Write>) -> Result<(), Error> {
    let Options { queue, message } = options;
    hello_world::send(broker, &queue, &message, out)
}
