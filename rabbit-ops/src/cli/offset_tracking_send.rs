//! `offset-tracking-send`: its arguments, their checks, and the run (stream tutorial 2's
//! producer, [`crate::streams::offset_tracking::send`]).

use std::io::Write;

use argh::{FromArgs, SubCommand};
use common::output::Out;

use super::global::Global;
use super::streams::{endpoint, name};
use super::values::{at_most, positive};
use crate::error::Error;
use crate::streams::consume::Interrupt;
use crate::streams::{Endpoint, block_on, offset_tracking};

/// The most messages one run publishes (every one is held until confirmed).
pub const MAX_MESSAGES: u64 = 1_000_000;

/// Stream tutorial 2: publish 100 messages (hello0 ... hello98, then the marker marker99) to the
/// stream stream-offset-tracking-rust (created if need be, retention 2 GB), each confirmed.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "offset-tracking-send",
    example = "Publish, then consume up to the marker:\n$ rabbit-ops offset-tracking-send\n$ rabbit-ops offset-tracking-receive",
    note = "Prints 'Publishing 100 messages', then 'Messages confirmed.' once the broker confirmed every one (exit 0); a refused or unconfirmed message is an error (exit 1), Ctrl-C exit 130. --messages at most 1000000. The broker: as for stream-send."
)]
pub struct Args {
    /// stream (default stream-offset-tracking-rust)
    #[argh(option, default = "offset_tracking::STREAM.to_owned()")]
    stream: String,
    /// messages, the last one the marker (default 100, at most 1000000)
    #[argh(option, default = "offset_tracking::MESSAGES", from_str_fn(positive))]
    messages: u64,
}

/// What to send, and where, checked.
#[derive(Debug)]
pub struct Options {
    /// The broker.
    pub endpoint: Endpoint,
    /// The stream.
    pub stream: String,
    /// How many messages.
    pub messages: u64,
}

/// The options, checked, and the broker of the flags before the command (one stream URL).
pub fn check(args: Args, global: &Global) -> Result<Options, Error> {
    let command = Args::COMMAND.name;
    Ok(Options {
        messages: at_most(command, "--messages", args.messages, MAX_MESSAGES)?,
        stream: name(command, "--stream", args.stream)?,
        endpoint: endpoint(command, global)?,
    })
}

/// Publishes the messages and waits for their confirms.
pub fn run<W: Write>(options: &Options, out: &mut Out<W>) -> Result<(), Error> {
    block_on(async || {
        let mut interrupt = Interrupt::install()?;
        offset_tracking::send(
            &options.endpoint,
            &options.stream,
            options.messages,
            &mut interrupt,
            out,
        )
        .await
    })
}
