//! `redis-ops bench`: its flags (`redis-benchmark`'s), their bounds, and the run.

// The doc comments are argh's help texts, written for a terminal (`pipeline <numreq>`).
#![allow(rustdoc::invalid_html_tags)]

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use argh::FromArgs;
use common::exit::say;
use common::output::Out;
use common::redact::redact_all;

use super::connection::{Connection, OnCluster};
use super::{RETRY_FOR, Threads, block_on, done, prepare, shutdown};
use crate::bench::{self, BenchOptions, Test};
use crate::connect::Redis;
use crate::error::{Error, signal_name};
use common::schedule::Pace;

/// `-n` when neither it nor `--duration` is given.
const DEFAULT_REQUESTS: u64 = 100_000;

/// redis-benchmark's tests, flags and -q lines: requests per second, p50/p99 latency, errors
#[derive(FromArgs)]
#[argh(subcommand, name = "bench")]
#[allow(clippy::struct_excessive_bools)] // one per switch
pub struct Args {
    /// parallel connections (default 50, at most 10000)
    #[argh(option, short = 'c', default = "50")]
    pub clients: usize,
    /// total requests per test (default 100000, at most 1000000000)
    #[argh(option, short = 'n')]
    pub requests: Option<u64>,
    /// pipeline <numreq> requests (default 1: no pipeline; at most 100000)
    #[argh(option, short = 'P', default = "1")]
    pub pipeline: usize,
    /// data size of SET/GET values in bytes (default 3, at most 536870912; -c x -P x -d within
    /// 1 GiB)
    #[argh(option, short = 'd', default = "3")]
    pub data_size: usize,
    /// comma-separated tests: set,get,incr,lpush,rpop,sadd,hset,zadd (default all)
    #[argh(option, short = 't')]
    pub tests: Option<String>,
    /// quiet: one line per test
    #[argh(switch, short = 'q')]
    pub quiet: bool,
    /// print one JSON object keyed by test name
    #[argh(switch)]
    pub json: bool,
    /// seconds a connection keeps trying to come back after the server went away (default 30)
    #[argh(option, default = "RETRY_FOR", from_str_fn(common::cli::positive_secs))]
    pub retry_for: Duration,
    /// requests per second in all, spread evenly over the connections (open loop, latency
    /// also from each request's due time; default: closed-loop; 1 to 10000000)
    #[argh(option)]
    pub rate: Option<u64>,
    /// the same as --rate (valkey-benchmark's name)
    #[argh(option)]
    pub rps: Option<u64>,
    /// seconds each test runs instead of -n requests (at most 86400)
    #[argh(option, from_str_fn(common::cli::secs))]
    pub duration: Option<Duration>,
    /// seconds each test runs before counting (default 0, at most 86400)
    #[argh(option, from_str_fn(common::cli::secs))]
    pub warmup: Option<Duration>,
    /// print redis-benchmark's CSV: a header, then one quoted row per test
    #[argh(switch)]
    pub csv: bool,
    /// print the live line (once a second) even when stderr is not a terminal
    #[argh(switch)]
    pub progress: bool,
}

/// How `bench` prints its reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A block per test.
    Long,
    /// `-q`: one line per test.
    Quiet,
    /// `--json`: one object.
    Json,
    /// `--csv`: redis-benchmark's header and a row per test.
    Csv,
}

/// `bench`, checked.
#[derive(Debug)]
pub struct Options {
    /// The server or the cluster.
    pub redis: Redis,
    /// The flags.
    pub run: BenchOptions,
    /// How to print.
    pub format: Format,
}

impl Options {
    /// The connection flags, then `-t` and the bounds ([`BenchOptions::check`]).
    pub fn new(a: Args, to: &Connection) -> Result<Self, Error> {
        let redis = to.redis(OnCluster::Runs)?;
        let tests = match a.tests {
            Some(list) => Test::parse_list(&list)?,
            None => Test::ALL.to_vec(),
        };
        let usage = |what: &str| Error::Usage(format!("bench: {what}"));
        let (rate, flag) = match (a.rate, a.rps) {
            (Some(_), Some(_)) => return Err(usage("give --rate or --rps, not both")),
            (None, Some(r)) => (Some(r), "--rps"),
            (r, None) => (r, "--rate"),
        };
        let pace = Pace::new(rate, a.warmup).map_err(|e| usage(&e.replace("--rate", flag)))?;
        if a.duration.is_some() && a.requests.is_some() {
            return Err(usage("give -n or --duration, not both"));
        }
        if a.json && a.csv {
            return Err(usage("give --json or --csv, not both"));
        }
        let run = BenchOptions {
            clients: a.clients,
            requests: a.requests.unwrap_or(DEFAULT_REQUESTS),
            pipeline: a.pipeline,
            data_size: a.data_size,
            tests,
            retry_for: a.retry_for,
            pace,
            duration: a.duration,
            progress: common::progress::wanted(a.progress),
        };
        run.check()?;
        let format = if a.json {
            Format::Json
        } else if a.csv {
            Format::Csv
        } else if a.quiet {
            Format::Quiet
        } else {
            Format::Long
        };
        Ok(Self { redis, run, format })
    }
}

/// Runs the tests on one thread (as redis-benchmark does), prints their reports, and on stderr
/// the failures of each; a signal ends it with the figures so far (exit 130).
pub fn run<W: Write>(args: Args, to: &Connection, out: &mut Out<W>) -> Result<ExitCode, Error> {
    let Options {
        redis,
        run: options,
        format,
    } = Options::new(args, to)?;
    prepare(redis.is_insecure());
    // -c connections, and a few more for the set-up and the clean-up.
    let wanted = options.clients as u64 + 64;
    let limit = common::limits::raise_fd_limit();
    if limit < wanted {
        return Err(Error::Limit(format!(
            "bench: -c {} needs about {wanted} open files; the limit is {limit} (ulimit -n)",
            options.clients
        )));
    }
    done(block_on(&redis, Threads::One, async {
        let measured = bench::run(&redis, &options, shutdown()?).await?;
        let reports = measured.reports;
        match format {
            Format::Json => out.line(format_args!("{}", bench::json(&reports)))?,
            Format::Csv => {
                out.line(format_args!("{}", bench::report::CSV_HEADER))?;
                for r in &reports {
                    out.line(format_args!("{}", r.csv_row()))?;
                }
            }
            Format::Quiet => {
                for r in &reports {
                    out.line(format_args!("{}", r.quiet_line()))?;
                }
            }
            Format::Long => {
                for r in &reports {
                    out.line(format_args!("{}\n", r.long(&options)))?;
                }
            }
        }
        for r in &reports {
            if let Some(warning) = r.rate.warning() {
                say(&format!(
                    "warning: {}: {warning}",
                    r.test.name().to_ascii_uppercase()
                ));
            }
        }
        for r in reports.iter().filter(|r| r.errors > 0) {
            say(&redact_all(&format!(
                "{}: {} request(s) failed, {} reconnect(s); first: {}",
                r.test.name().to_ascii_uppercase(),
                r.errors,
                r.reconnects,
                r.first_error.as_deref().unwrap_or("?")
            )));
        }
        match measured.interrupted {
            Some(signal) => Err(Error::Interrupted(format!(
                " ({}) after {} test(s); the figures above are what was measured so far; the run's keys are deleted",
                signal_name(signal),
                reports.len()
            ))),
            None => Ok(()),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::cli::tests::parse;

    #[test]
    fn counts_are_bounded() {
        let (to, Command::Bench(a)) = parse(&["bench", "-c", "0"]).unwrap() else {
            panic!("not bench")
        };
        assert_eq!(
            Options::new(a, &to).unwrap_err().to_string(),
            "bench: -c, -n and -P must be at least 1"
        );
    }
}
