//! `rpc-client` (tutorial 6): its arguments, their checks, and the run.

use std::io::Write;
use std::time::Duration;

use argh::{FromArgs, SubCommand};
use common::cli::positive_secs;
use common::output::Out;

use super::names;
use super::values::{at_most, positive};
use crate::broker::Broker;
use crate::error::Error;
use crate::stop::Stop;
use crate::tutorials::rpc;

/// The most requests `rpc-client --concurrency` sends at once.
pub const MAX_CONCURRENCY: u64 = 100_000;

/// Tutorial 6: ask the rpc-server for fib(N) and print the answer.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "rpc-client",
    note = "Differs from the official rpc_client.py: it asks fib(N) (rpc_client.py always asks fib(30)); a refusal ('error: ...') or an answer that is not an integer is an error line, exit 1 (rpc_client.py crashes with a traceback)."
)]
pub struct Args {
    /// queue of the server (default rpc_queue)
    #[argh(option, default = "rpc::QUEUE.to_owned()")]
    pub queue: String,
    /// seconds to wait for the answers (default 10)
    #[argh(
        option,
        default = "Duration::from_secs(10)",
        from_str_fn(positive_secs)
    )]
    pub timeout: Duration,
    /// send K requests at once on one connection (default 1, at most 100000)
    #[argh(option, default = "1", from_str_fn(positive))]
    pub concurrency: u64,
    /// n (default 30); sent as given, so a bad one reaches the server (use -- before -1)
    #[argh(positional, default = "String::from(\"30\")")]
    pub n: String,
}

/// The options, checked: `--concurrency` within its bound, the queue's name.
pub fn check(args: Args) -> Result<Options, Error> {
    let command = Args::COMMAND.name;
    let concurrency = at_most(command, "--concurrency", args.concurrency, MAX_CONCURRENCY)?;
    names::check(command, &[("--queue", &args.queue)])?;
    Ok(Options {
        queue: args.queue,
        n: args.n,
        concurrency,
        timeout: args.timeout,
    })
}

/// The requests, checked.
#[derive(Debug)]
pub struct Options {
    /// The server's queue.
    pub queue: String,
    /// n, as given.
    pub n: String,
    /// Requests sent at once, 1 to [`MAX_CONCURRENCY`].
    pub concurrency: usize,
    /// How long to wait for the answers.
    pub timeout: Duration,
}

/// Sends the requests and prints the answers ([`rpc::client`]); Ctrl-C ends the wait (exit
/// 130).
pub fn run(options: Options, broker: &Broker, out: &mut Out<impl Write>) -> Result<(), Error> {
    let stop = Stop::on_signal()?;
    let Options {
        queue,
        n,
        concurrency,
        timeout,
    } = options;
    rpc::client(broker, &queue, &n, concurrency, timeout, &stop, out).map(drop)
}
