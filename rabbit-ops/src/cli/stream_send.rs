//! `stream-send`: its arguments, their checks, and the run (stream tutorial 1's producer,
//! [`crate::streams::hello_world::send`]).

use std::io::Write;

use argh::{FromArgs, SubCommand};
use common::output::Out;

use super::global::Global;
use super::streams::{endpoint, name};
use crate::error::Error;
use crate::streams::{Endpoint, block_on, hello_world};

/// Stream tutorial 1: publish 'Hello, World!' to the stream hello-rust-stream (created if need
/// be, retention 5 GB) and wait for the broker's confirm.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "stream-send",
    example = "Then read it back (from the first message):\n$ rabbit-ops stream-send\n$ rabbit-ops stream-receive --count 1",
    note = "The broker: a rabbitmq-stream:// --url, else $RABBITMQ_STREAM_URL, else rabbitmq-stream://guest:guest@127.0.0.1:5552/%2f (the rabbitmq_stream plugin's port; rabbitmq-stream+tls:// for TLS on 5551). Names are at most 255 bytes. Exit codes: 0 the message confirmed, 1 runtime failure, 2 bad usage."
)]
pub struct Args {
    /// stream (default hello-rust-stream)
    #[argh(option, default = "hello_world::STREAM.to_owned()")]
    stream: String,
    /// the message (default: Hello, World!)
    #[argh(positional, greedy)]
    message: Vec<String>,
}

/// What to send, and where, checked.
#[derive(Debug)]
pub struct Options {
    /// The broker.
    pub endpoint: Endpoint,
    /// The stream.
    pub stream: String,
    /// The message.
    pub message: String,
}

/// The options, checked, and the broker of the flags before the command (one stream URL).
pub fn check(args: Args, global: &Global) -> Result<Options, Error> {
    let command = Args::COMMAND.name;
    Ok(Options {
        stream: name(command, "--stream", args.stream)?,
        message: if args.message.is_empty() {
            hello_world::MESSAGE.to_owned()
        } else {
            args.message.join(" ")
        },
        endpoint: endpoint(command, global)?,
    })
}

/// Sends the message; `out` gets `Sent message to stream: <stream>`.
pub fn run<W: Write>(options: &Options, out: &mut Out<W>) -> Result<(), Error> {
    block_on(async || {
        hello_world::send(&options.endpoint, &options.stream, &options.message, out).await
    })
}
