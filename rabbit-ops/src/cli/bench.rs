//! `bench`: its arguments, their checks into a [`bench::Config`], and the run.

use std::io::Write;

use argh::{FromArgs, SubCommand};
use common::output::Out;

use super::values::{MAX_MESSAGES, at_most, positive};
use crate::bench;
use crate::broker::Broker;
use crate::error::Error;

/// The largest `bench --size`: RabbitMQ's own default limit on a message (128 MiB).
pub const MAX_SIZE: u64 = 128 * 1024 * 1024;
/// The most connections `bench --producers/--consumers` opens, each on a thread of its own.
pub const MAX_CONNECTIONS: u64 = 1000;

/// Beyond the tutorials: measure publish and consume rates and end-to-end latency.
#[derive(FromArgs, Debug, Clone, Copy)]
#[argh(subcommand, name = "bench")]
pub struct Args {
    /// messages in all (default 100000, at most 100000000)
    #[argh(option, default = "100_000", from_str_fn(positive))]
    pub messages: u64,
    /// bytes per message, 16 to 134217728 (default 100)
    #[argh(option, default = "100", from_str_fn(positive))]
    pub size: u64,
    /// publishing connections (default 1, at most 1000)
    #[argh(option, default = "1", from_str_fn(positive))]
    pub producers: u64,
    /// consuming connections (default 1, at most 1000)
    #[argh(option, default = "1", from_str_fn(positive))]
    pub consumers: u64,
    /// persistent messages on a durable queue
    #[argh(switch)]
    pub persistent: bool,
    /// publisher confirms (every message confirmed before the publish rate is taken)
    #[argh(switch)]
    pub confirm: bool,
    /// unacknowledged messages per consumer (default 500, at most 65535)
    #[argh(option, default = "500", from_str_fn(positive))]
    pub prefetch: u64,
    /// print one JSON object instead of lines
    #[argh(switch)]
    pub json: bool,
}

/// The options, checked: every count and size within its bound, before anything is allocated.
pub fn check(c: Args) -> Result<bench::Config, Error> {
    let command = Args::COMMAND.name;
    let min = bench::HEADER as u64;
    if c.size < min {
        return Err(Error::usage(
            command,
            format!(
                "--size must be at least {min} (sequence number and timestamp), not {}",
                c.size
            ),
        ));
    }
    Ok(bench::Config {
        messages: at_most(command, "--messages", c.messages, MAX_MESSAGES)?,
        size: at_most(command, "--size", c.size, MAX_SIZE)?,
        producers: at_most(command, "--producers", c.producers, MAX_CONNECTIONS)?,
        consumers: at_most(command, "--consumers", c.consumers, MAX_CONNECTIONS)?,
        persistent: c.persistent,
        confirm: c.confirm,
        prefetch: at_most(command, "--prefetch", c.prefetch, u64::from(u16::MAX))?,
        json: c.json,
    })
}

/// Runs the benchmark on a queue of its own and prints its figures ([`bench::run`]).
pub fn run(config: bench::Config, broker: &Broker, out: &mut Out<impl Write>) -> Result<(), Error> {
    bench::run(broker, &config, out).map(drop)
}
