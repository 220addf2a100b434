//! poetry-server's command line.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use argh::FromArgs;
use common::cli::secs;
use common::exit::Failure;
use common::output::Out;
use common::runtime::MAX_THREADS;

use crate::server::{self, Config, load_poem};
use crate::{Error, limits};

/// Serve one poem file to every client that connects, then close the connection (the Twisted
/// tutorial's Fast Poetry Server). With --delay, the slow server: --num-bytes at a time,
/// --delay seconds apart. Prints `Serving <file> on <ip>:<port>.` first; stops on SIGINT or
/// SIGTERM, letting poems in progress finish for --grace seconds.
#[derive(FromArgs, Debug)]
#[argh(
    example = "The fast server on 127.0.0.1:9000 (then: poetry-client 9000):\n$ {command_name} poetry/poems/ecstasy.txt",
    example = "The slow server, 10 bytes every 0.7 s, on port 9002:\n$ {command_name} --port 9002 --delay 0.7 --num-bytes 10 poetry/poems/alla_sera.txt",
    note = "The poem file must be a regular file (not a device or a FIFO) of at most --max-poem-size bytes. Bounds: --max-connections 1 to 1000000, --threads 1 to 1024, --num-bytes and --max-poem-size 1 to 1073741824, seconds at most a year.\nExit codes: 0 after SIGINT/SIGTERM (even with stderr closed), 1 when it cannot listen or start, 2 for bad usage (no file, two files, a missing file, a file that is not a regular one or is too large). --version prints the version. Guide: docs/poetry.md."
)]
pub struct Args {
    /// the poem file to serve
    #[argh(positional, arg_name = "POEM_FILE")]
    files: Vec<String>,
    /// the port to listen on (default 9000; 0 picks a free port)
    #[argh(option, default = "9000")]
    port: u16,
    /// the interface to listen on (default localhost)
    #[argh(option, default = "String::from(\"localhost\")")]
    iface: String,
    /// slow mode: seconds between two pieces of the poem
    #[argh(option, from_str_fn(secs))]
    delay: Option<Duration>,
    /// slow mode: bytes per piece, 1 to 1073741824 (default 10; a UTF-8 character is never
    /// split)
    #[argh(option, default = "10")]
    num_bytes: usize,
    /// the largest poem file served, in bytes, 1 to 1073741824 (default 16777216, 16 MiB)
    #[argh(option, default = "limits::DEFAULT_MAX_POEM_SIZE")]
    max_poem_size: usize,
    /// connections served at once, 1 to 1000000; more wait (default 10000, fewer under a low
    /// open-file limit)
    #[argh(option)]
    max_connections: Option<usize>,
    /// seconds poems in progress get to finish after SIGINT/SIGTERM (default 5)
    #[argh(option, default = "Duration::from_secs(5)", from_str_fn(secs))]
    grace: Duration,
    /// worker threads, 1 to 1024 (default 1: the fastest on a small machine)
    #[argh(option, default = "1")]
    threads: usize,
    /// more logs: -v info (each signal, each cut), -vv debug (each client)
    #[argh(switch, short = 'v')]
    pub verbose: u8,
    /// errors only
    #[argh(switch, short = 'q')]
    pub quiet: bool,
}

/// Checks the arguments (every bound before the file is read), loads the poem, then serves it
/// until SIGINT or SIGTERM.
pub fn run(args: &Args, out: &mut Out<impl Write>) -> Result<(), Failure> {
    let [file] = args.files.as_slice() else {
        return Err(Error::Usage("Provide exactly one poetry file.".into()).into());
    };
    let num_bytes = limits::check("num-bytes", args.num_bytes, 1, limits::MAX_POEM_SIZE)
        .map_err(Error::Usage)?;
    if !(1..=MAX_THREADS).contains(&args.threads) {
        return Err(Error::Usage(format!("--threads must be from 1 to {MAX_THREADS}")).into());
    }
    let max_connections = super::max_connections(args.max_connections)?;
    let max_poem_size = super::max_poem_size(args.max_poem_size)?;
    let addr = common::addr::listen_addr(&args.iface, args.port)?;
    let poem = load_poem(Path::new(file), max_poem_size)?;
    if poem.is_empty() {
        tracing::warn!("{file} is empty: clients will report an empty poem");
    }
    let mut config = Config::new(poem);
    config.grace = args.grace;
    if let Some(delay) = args.delay {
        config = config.slow(delay, num_bytes);
    }
    config.max_connections = max_connections;
    common::server::run_server(
        args.threads,
        async || common::net::bind(addr),
        |local| format!("Serving {file} on {local}."),
        |listener, shutdown| server::run(listener, config, shutdown),
        out,
    )
}
