//! `offset-tracking-receive`: its arguments, their checks, and the run (stream tutorial 2's
//! consumer, [`crate::streams::offset_tracking::receive`]).

use std::io::Write;
use std::time::Duration;

use argh::{FromArgs, SubCommand};
use common::cli::positive_secs;
use common::output::Out;

use super::consumer::limits;
use super::global::Global;
use super::streams::{endpoint, name};
use super::values::positive;
use crate::consume::Limits;
use crate::error::Error;
use crate::streams::consume::Interrupt;
use crate::streams::{Endpoint, block_on, offset_tracking};

/// Stream tutorial 2: a named consumer of stream-offset-tracking-rust that resumes after the
/// offset it stored last, stores its offset every 10 messages, and stops at the marker.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "offset-tracking-receive",
    example = "Run it twice: the second run starts after what the first one stored:\n$ rabbit-ops offset-tracking-receive\n$ rabbit-ops offset-tracking-send\n$ rabbit-ops offset-tracking-receive",
    note = "Prints 'Started consuming', 'First message received', one 'Got message: <body> with offset: <n>' line per message (the official receive_offset_tracking.rs prints none), then at the marker 'Done consuming first_offset: N last_offset: M' (exit 0). Stopped early by --count N (exit 0), Ctrl-C (exit 0) or --timeout SECS (exit 1), it stores the offset of the last message printed, so the next run goes on right after it. The offsets are stored in the stream under --name. The broker: as for stream-send."
)]
pub struct Args {
    /// stream (default stream-offset-tracking-rust)
    #[argh(option, default = "offset_tracking::STREAM.to_owned()")]
    stream: String,
    /// the consumer's name, under which its offset is stored (default consumer-1)
    #[argh(option, default = "offset_tracking::CONSUMER.to_owned()")]
    name: String,
    /// exit 0 after N messages
    #[argh(option, from_str_fn(positive))]
    count: Option<u64>,
    /// exit 1 when no message arrives for SECS seconds
    #[argh(option, from_str_fn(positive_secs))]
    timeout: Option<Duration>,
}

/// What to consume, and where, checked.
#[derive(Debug)]
pub struct Options {
    /// The broker.
    pub endpoint: Endpoint,
    /// The stream.
    pub stream: String,
    /// The consumer's name.
    pub name: String,
    /// `--count` and `--timeout`.
    pub limits: Limits,
}

/// The options, checked, and the broker of the flags before the command (one stream URL).
pub fn check(args: Args, global: &Global) -> Result<Options, Error> {
    let command = Args::COMMAND.name;
    Ok(Options {
        stream: name(command, "--stream", args.stream)?,
        name: name(command, "--name", args.name)?,
        limits: limits(args.count, args.timeout),
        endpoint: endpoint(command, global)?,
    })
}

/// Consumes up to the marker (or the limits, or Ctrl-C).
pub fn run<W: Write>(options: &Options, out: &mut Out<W>) -> Result<(), Error> {
    block_on(async || {
        let mut interrupt = Interrupt::install()?;
        offset_tracking::receive(
            &options.endpoint,
            &options.stream,
            &options.name,
            options.limits,
            &mut interrupt,
            out,
        )
        .await
        .map(drop)
    })
}
