//! `redis-ops ping`: its targets, their checks, and the run.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use argh::FromArgs;
use common::output::Out;
use common::probe::Probe;

use super::connection::{Checked, Connection, OnCluster};
use super::{Threads, block_on, prepare, shutdown, usage};
use crate::connect::Redis;
use crate::error::Error;
use crate::ping::MAX_TARGETS;
use crate::url::url_from;

/// check that Redis works: PING, then SET, GET and DEL of a fresh key (one line per target);
/// --wait until it does
#[derive(FromArgs)]
#[argh(
    subcommand,
    name = "ping",
    example = "Wait up to 30 s for the Redis of $REDIS_URL (or --url) to work:\n$ redis-ops ping --wait 30",
    example = "Two servers at once, as JSON; a cluster through one seed:\n$ redis-ops ping --json redis://10.0.0.1:6379/0 redis://:secret@10.0.0.2:6379/1\n$ redis-ops --cluster redis://127.0.0.1:7000 ping",
    note = "Exit codes: 0 every target passed, 1 one did not (each says why on stderr), 2 bad usage, 130 interrupted while waiting. Guide: docs/redis.md."
)]
pub struct Args {
    /// the servers to check at once (default: --url, else $REDIS_URL, else
    /// redis://127.0.0.1:6379/0)
    #[argh(positional)]
    pub urls: Vec<String>,
    /// keep trying, with a backoff, for up to this many seconds until the check passes
    /// (default: one try)
    #[argh(option, from_str_fn(common::cli::secs))]
    pub wait: Option<Duration>,
    /// print one JSON object per target per line instead
    #[argh(switch)]
    pub json: bool,
}

/// `ping`, checked.
#[derive(Debug)]
pub struct Options {
    /// What to check: servers, or one cluster.
    pub targets: Vec<Redis>,
    /// `--wait` and `--timeout`.
    pub probe: Probe,
    /// `--json`.
    pub json: bool,
}

impl Options {
    /// The connection flags, then the targets: the URLs after `ping`, else `--url` (or
    /// `$REDIS_URL`), or the cluster of `--cluster`; each a TCP URL, the TLS flags applied.
    pub fn new(a: Args, to: &Connection) -> Result<Self, Error> {
        let checked = to.check(OnCluster::Runs)?;
        let mut targets = targets(a.urls, &checked)?;
        for t in &mut targets {
            *t = t.clone().with_tls(&checked.tls)?;
        }
        checked.tls_flags_need_tls(&targets)?;
        Ok(Self {
            targets,
            probe: Probe {
                wait: a.wait.filter(|w| !w.is_zero()),
                timeout: to.timeout,
            },
            json: a.json,
        })
    }
}

/// The targets of `ping`: the URLs after it, else `--url` (or `$REDIS_URL`), or the cluster of
/// `--cluster`. Each must be a TCP URL: the check speaks RESP on a socket of its own.
fn targets(urls: Vec<String>, checked: &Checked<'_>) -> Result<Vec<Redis>, Error> {
    let (url, timeout) = (&checked.flags.url, checked.flags.timeout);
    if !urls.is_empty() && (url.is_some() || !checked.seeds.is_empty()) {
        return Err(usage(
            "ping: give the URLs after ping, or --url or --cluster, not both",
        ));
    }
    if urls.iter().any(|u| u.trim().is_empty()) {
        return Err(usage("ping: an empty URL"));
    }
    if urls.len() > MAX_TARGETS {
        return Err(usage(&format!("ping: at most {MAX_TARGETS} targets")));
    }
    let targets = if checked.seeds.is_empty() {
        let urls = if urls.is_empty() {
            vec![url_from(url.clone())]
        } else {
            urls
        };
        let mut targets = Vec::with_capacity(urls.len());
        for url in urls {
            targets.push(Redis::new(&url, timeout)?);
        }
        targets
    } else {
        vec![Redis::cluster(&checked.seeds, timeout)?]
    };
    for t in &targets {
        t.addr()?;
    }
    Ok(targets)
}

/// A line per target, ok on stdout (or JSON objects, one per target), failures as `error: ...`
/// on stderr, with `--json` too; exit 1 if any failed, 130 if a signal ended the waiting. Its job is the check: a
/// closed stdout does not change the exit code.
pub fn run<W: Write>(args: Args, to: &Connection, out: &mut Out<W>) -> Result<ExitCode, Error> {
    let Options {
        targets,
        probe,
        json,
    } = Options::new(args, to)?;
    let insecure = targets.iter().any(Redis::is_insecure);
    let first = &targets[0];
    prepare(insecure);
    block_on(first, Threads::One, async {
        let outcomes = crate::ping::run(&targets, probe, shutdown()?).await;
        // The one rule of every readiness check (common::probe::report): ok lines or JSON
        // objects on stdout, every failed target's error line on stderr, JSON or not.
        Ok(match common::probe::report(&outcomes, json, out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => common::cli::finish(Err(failure)),
        })
    })
}
