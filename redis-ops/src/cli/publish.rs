//! `redis-ops publish`: its arguments, and the run.

use std::io::Write;
use std::process::ExitCode;

use argh::FromArgs;
use common::output::Out;

use super::connection::{Connection, OnCluster};
use super::{Threads, done, execute, printed_if_read};
use crate::channels;
use crate::error::Error;

/// publish a message on a channel; prints how many subscribers received it
#[derive(FromArgs)]
#[argh(subcommand, name = "publish")]
pub struct Args {
    /// the channel
    #[argh(positional)]
    pub channel: String,
    /// the message
    #[argh(positional)]
    pub message: String,
}

/// Publishes the message and prints `(integer) N`, the subscribers that received it. A
/// producer: the message is sent whatever happens to stdout; a reader that went away only
/// misses the count.
pub fn run<W: Write>(args: Args, to: &Connection, out: &mut Out<W>) -> Result<ExitCode, Error> {
    let Args { channel, message } = args;
    let redis = to.redis(OnCluster::Runs)?;
    done(execute(&redis, Threads::All, async {
        let n = channels::publish(&redis, &channel, message.as_bytes()).await?;
        printed_if_read(out.line(format_args!("(integer) {n}")))
    }))
}
