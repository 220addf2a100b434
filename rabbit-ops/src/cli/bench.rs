//! `bench`: its arguments, their checks into a [`bench::Config`], and the run.

use std::io::Write;
use std::time::Duration;

use argh::{FromArgs, SubCommand};
use common::cli::{positive_secs, secs};
use common::output::Out;
use common::schedule::{MAX_SECS, Pace};

use super::global::Global;
use super::streams::endpoint;
use super::values::{MAX_MESSAGES, at_most, positive};
use crate::bench::{self, Length};
use crate::broker::Broker;
use crate::error::Error;

/// The largest `bench --size`: RabbitMQ's own default limit on a message (128 MiB).
pub const MAX_SIZE: u64 = 128 * 1024 * 1024;
/// The most connections `bench --producers/--consumers` opens, each on a thread of its own.
pub const MAX_CONNECTIONS: u64 = 1000;
/// `--messages` when neither it nor `--duration` is given.
pub const DEFAULT_MESSAGES: u64 = 100_000;

/// Beyond the tutorials: measure publish and consume rates and end-to-end latency.
#[derive(FromArgs, Debug, Clone, Copy)]
#[allow(clippy::struct_excessive_bools)] // one per switch
#[argh(subcommand, name = "bench")]
pub struct Args {
    /// messages in all (default 100000, at most 100000000)
    #[argh(option, from_str_fn(positive))]
    pub messages: Option<u64>,
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
    /// seconds to publish for (after --warmup), instead of --messages (at most 86400)
    #[argh(option, from_str_fn(positive_secs))]
    pub duration: Option<Duration>,
    /// messages per second in all, spread evenly over the producers (open loop, 1 to
    /// 10000000; default: closed-loop, each producer as fast as it goes)
    #[argh(option)]
    pub rate: Option<u64>,
    /// seconds at the start whose messages are not counted (default 0, at most 86400)
    #[argh(option, from_str_fn(secs))]
    pub warmup: Option<Duration>,
    /// print the live line (once a second) even when stderr is not a terminal
    #[argh(switch)]
    pub progress: bool,
    /// a quorum queue (durable, replicated) instead of a classic one
    #[argh(switch)]
    pub quorum: bool,
    /// a stream instead of a queue, through the stream protocol: one producer with confirms,
    /// one consumer (a rabbitmq-stream:// --url, else $RABBITMQ_STREAM_URL, else
    /// 127.0.0.1:5552)
    #[argh(switch)]
    pub stream: bool,
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
    let pace = Pace::new(c.rate, c.warmup).map_err(|what| Error::usage(command, what))?;
    let length = match (c.messages, c.duration) {
        (Some(_), Some(_)) => {
            return Err(Error::usage(
                command,
                "--messages and --duration exclude each other: a run is a number of messages or \
                 a time",
            ));
        }
        (None, Some(d)) => Length::Duration(
            common::schedule::duration(d).map_err(|what| Error::usage(command, what))?,
        ),
        (messages, None) => Length::Messages(at_most(
            command,
            "--messages",
            messages.unwrap_or(DEFAULT_MESSAGES),
            MAX_MESSAGES,
        )?),
    };
    if let Some(rate) = pace.rate {
        check_rate_length(command, rate, pace.warmup, length)?;
    }
    Ok(bench::Config {
        length,
        size: at_most(command, "--size", c.size, MAX_SIZE)?,
        producers: at_most(command, "--producers", c.producers, MAX_CONNECTIONS)?,
        consumers: at_most(command, "--consumers", c.consumers, MAX_CONNECTIONS)?,
        persistent: c.persistent,
        confirm: c.confirm,
        prefetch: at_most(command, "--prefetch", c.prefetch, u64::from(u16::MAX))?,
        pace,
        json: c.json,
        progress: c.progress,
        quorum: c.quorum,
    })
}

/// At a fixed rate, a timed run must fit the messages a run counts (the bench keeps a bit per
/// message), and a run of `--messages` must end within a day.
fn check_rate_length(
    command: &'static str,
    rate: u64,
    warmup: Duration,
    length: Length,
) -> Result<(), Error> {
    match length {
        Length::Duration(d) => {
            let messages = (rate as f64 * (warmup + d).as_secs_f64()).ceil();
            if messages > MAX_MESSAGES as f64 {
                return Err(Error::usage(
                    command,
                    format!(
                        "--rate x (--warmup + --duration) must be at most {MAX_MESSAGES} \
                         messages, not {messages:.0}"
                    ),
                ));
            }
        }
        Length::Messages(n) => {
            let secs = n as f64 / rate as f64;
            if secs > MAX_SECS as f64 {
                return Err(Error::usage(
                    command,
                    format!(
                        "--messages {n} at --rate {rate} take {secs:.0} s: a run lasts at most \
                         {MAX_SECS} seconds"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Runs the benchmark on a queue of its own and prints its figures ([`bench::run`]).
pub fn run(config: bench::Config, broker: &Broker, out: &mut Out<impl Write>) -> Result<(), Error> {
    bench::run(broker, &config, out).map(drop)
}

/// `--stream`: the options, checked as for a queue; those a stream run has no use for are a
/// usage error; the broker is the stream URL of the flags before the command.
pub fn check_stream(c: Args, global: &Global) -> Result<bench::stream::Config, Error> {
    let command = Args::COMMAND.name;
    let refused = || {
        Error::usage(
            command,
            "--stream takes --messages, --size, --confirm and --json (one producer with \
             confirms, one consumer, every message stored; closed loop)",
        )
    };
    if c.producers != 1
        || c.consumers != 1
        || c.prefetch != 500
        || c.persistent
        || c.quorum
        || c.duration.is_some()
        || c.rate.is_some()
        || c.warmup.is_some()
        || c.progress
    {
        return Err(refused());
    }
    let config = check(c)?;
    let Length::Messages(messages) = config.length else {
        return Err(refused());
    };
    Ok(bench::stream::Config {
        endpoint: endpoint(command, global)?,
        messages,
        size: config.size,
        json: config.json,
    })
}

/// Runs the benchmark on a stream of its own and prints its figures ([`bench::stream::run`]).
pub fn run_stream(config: &bench::stream::Config, out: &mut Out<impl Write>) -> Result<(), Error> {
    bench::stream::run(config, out).map(drop)
}
