//! `echo-bench`: its arguments, their checks, the run and its live line.

use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use argh::FromArgs;
use common::exit::{Failure, say};
use common::output::Out;
use common::schedule::Pace;

use crate::Error;
use crate::bench::{self, Config};

/// Echo benchmark: each connection sends a message, waits for all of it to come back, checks
/// every byte, and sends the next, for --duration seconds. Prints messages/s, MB/s, latency
/// percentiles and errors; exits 1 if any echo was wrong or lost. With --rate N, messages go out
/// at N per second in all instead (open loop, as wrk2 -R), and latency is measured from the
/// time each was due as well as from its send.
#[derive(FromArgs)]
#[argh(
    example = "50 connections x 512 B against 127.0.0.1:1234 for 10 s:\n$ {command_name}",
    example = "Port 4000, 200 connections x 4 KiB for 3 s, as JSON:\n$ {command_name} 4000 --connections 200 --size 4096 --duration 3 --json",
    example = "20000 messages/s for 10 s after a 2 s warm-up: corrected and service latency:\n$ {command_name} --rate 20000 --warmup 2",
    note = "Bounds: --connections 1 to 100000, --size 1 to 16777216, connections x size at most 268435456 (256 MiB), --threads 1 to 1024, --duration a year (a day with --rate or --warmup), --rate 1 to 10000000, --warmup a day. Connecting: 10 s at most; an echo not back 2 s after the end is an error.",
    note = "Exit codes: 0 every echo checked, 1 any error (wrong or lost echo, too few open files or threads), 2 bad usage, 130 interrupted by SIGINT/SIGTERM (the report of what completed is printed first). --version prints the version. Guide: docs/echo.md."
)]
pub struct Args {
    /// the server: PORT or HOST:PORT (default 127.0.0.1:1234)
    #[argh(positional)]
    addr: Option<String>,
    /// connections, each with one message in flight (default 50, at most 100000)
    #[argh(option, default = "50")]
    connections: usize,
    /// bytes per message (default 512, at most 16777216; connections x size at most 268435456)
    #[argh(option, default = "512")]
    size: usize,
    /// seconds to run (default 10)
    #[argh(
        option,
        default = "Duration::from_secs(10)",
        from_str_fn(common::cli::positive_secs)
    )]
    duration: Duration,
    /// messages per second in all, spread evenly over the connections (open loop; default:
    /// closed-loop, each message when the last echo is back)
    #[argh(option)]
    rate: Option<u64>,
    /// seconds to run before counting (default 0)
    #[argh(option, from_str_fn(common::cli::secs))]
    warmup: Option<Duration>,
    /// print one JSON object instead of text
    #[argh(switch)]
    json: bool,
    /// print the live line (once a second) even when stderr is not a terminal
    #[argh(switch)]
    progress: bool,
    /// threads driving the connections (default 1, at most 1024)
    #[argh(option, default = "1")]
    threads: usize,
    /// more logs on stderr (-v info, -vv debug)
    #[argh(switch, short = 'v')]
    pub verbose: u8,
    /// errors only on stderr
    #[argh(switch, short = 'q')]
    pub quiet: bool,
}

/// What to run, checked.
#[derive(Debug, Clone)]
pub struct Options {
    /// The load.
    pub config: Config,
    /// Runtime threads, 1 to [`common::runtime::MAX_THREADS`].
    pub threads: usize,
    /// One JSON object instead of text.
    pub json: bool,
    /// The live line even when stderr is not a terminal.
    pub progress: bool,
}

impl TryFrom<Args> for Options {
    type Error = Error;

    fn try_from(args: Args) -> Result<Self, Error> {
        let addr =
            common::addr::parse_connect_addr(args.addr.as_deref().unwrap_or(super::DEFAULT_ADDR))?;
        let pace = Pace::new(args.rate, args.warmup).map_err(Error::usage)?;
        let duration = if pace == Pace::CLOSED {
            args.duration
        } else {
            common::schedule::duration(args.duration).map_err(Error::usage)?
        };
        let config = Config {
            addr,
            connections: args.connections,
            size: args.size,
            duration,
            pace,
        };
        config.check()?;
        Ok(Self {
            config,
            threads: super::threads(args.threads)?,
            json: args.json,
            progress: args.progress,
        })
    }
}

/// Runs the benchmark and prints its report on `out`. A closed `out` ends quietly unless an
/// echo was wrong or lost: that is still an error (exit 1). SIGINT or SIGTERM stops it: the
/// report of what completed is printed, then `interrupted (SIGINT) after ...` (exit 130).
pub fn run(args: Args, out: &mut Out<impl Write>) -> Result<(), Failure> {
    let Options {
        config,
        threads,
        json,
        progress,
    } = Options::try_from(args)?;
    // Each connection is a descriptor, and the process has a few of its own.
    common::limits::ensure_fd_limit(config.connections as u64 + 16).map_err(|short| {
        Error::Resource(format!(
            "cannot open {} connections: {short}",
            config.connections
        ))
    })?;
    let runtime = super::runtime(threads)?;
    let report = runtime.block_on(async {
        let stop = common::shutdown::install()
            .map_err(|e| Error::io("cannot install the signal handlers", e))?;
        let ticker = common::progress::wanted(progress)
            .then(|| common::progress::Ticker::start("echo-bench", true));
        let report = bench::run(
            &config,
            ticker.as_ref().map(common::progress::Ticker::live),
            stop,
        )
        .await;
        drop(ticker);
        report
    })?;
    if let Some(warning) = report.rate.warning() {
        say(&format!("warning: {warning}"));
    }
    let printed = if json {
        out.line(format_args!("{}", report.to_json()))
    } else {
        out.bytes(report.to_text().as_bytes())
            .and_then(|()| out.flush())
    };
    if let Some(signal) = report.interrupted {
        let mut done = format!(
            "ran {} of {}, the report covers the {} echoes completed",
            common::duration::duration(Duration::from_secs_f64(report.seconds)),
            common::duration::duration(config.duration),
            report.messages
        );
        if report.errors > 0 {
            let first = report.first_error.unwrap_or_default();
            let _ = write!(done, "; {} error(s), first: {first}", report.errors);
        }
        return Err(Error::interrupted(signal, done).into());
    }
    if report.errors > 0 {
        return Err(
            Error::BenchErrors(report.errors, report.first_error.unwrap_or_default()).into(),
        );
    }
    printed.map_err(|e| Error::from(e).into())
}
