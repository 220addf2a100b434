//! `redis-ops bench`: `redis-benchmark`'s tests, flags and `-q` lines, from Rust.
//!
//! Against one server it works the way `redis-benchmark` does: `-c` connections on one thread
//! (the caller runs it on a current-thread runtime), each sending `-P` pre-encoded commands at a
//! time straight to its socket and reading back exactly as many replies with the small strict
//! parser of [`crate::link::resp`], on a [`crate::link::Link`] (each reply's type is checked:
//! SET must answer `+OK`, INCR an integer...; an error reply is counted). No redis-crate machinery per command: that is what
//! made the difference (see docs/redis.md, "bench").
//!
//! With `--cluster` the same tests go through the redis crate's async cluster client, which
//! routes each command to the master of its key's slot.
//!
//! The server going away: the batch in flight when a connection breaks (or gets no answer
//! within the timeout) is counted in `errors`, the connection is made again with the shared
//! backoff ([`common::retry::Backoff`], 50 ms doubling to 1 s), and the run goes on. A client
//! that cannot reconnect for `retry_for` gives up; the requests never sent are reported and the
//! command fails.
//!
//! The parts: [`catalogue`] (the tests, their commands and the replies they accept), `raw`
//! (the RESP client on raw links), `reconnect` (connecting, and again after a break),
//! `cluster` (the cluster backend), `tally` (the counters a test's connections share),
//! [`run_keys`] (the run's keys and their deletion) and [`report`] (the `-q` line, the block,
//! JSON).

pub mod catalogue;
mod cluster;
mod raw;
mod reconnect;
pub mod report;
pub mod run_keys;
mod tally;

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use common::duration::duration;
use common::progress::{Live, Ticker};
use common::schedule::Pace;
use common::shutdown::Signal;

pub use catalogue::Test;
pub use report::{TestReport, json};
pub use run_keys::Keys;

use crate::connect::Redis;
use crate::error::Error;

/// The most connections `-c` takes (redis-server's default `maxclients`).
pub const MAX_CLIENTS: usize = 10_000;

/// The most requests `-n` takes per test (a billion).
pub const MAX_REQUESTS: u64 = 1_000_000_000;

/// The most commands `-P` pipelines at once.
pub const MAX_PIPELINE: usize = 100_000;

/// The largest `-d` value in bytes: Redis's own limit on a bulk string (`proto-max-bulk-len`,
/// 512 MiB).
pub const MAX_DATA_SIZE: usize = 512 << 20;

/// The most memory the pre-encoded batches of a run may take, `-c` x `-P` x (`-d` + the command),
/// in bytes: 1 GiB.
pub const MAX_BATCH_BYTES: u64 = 1 << 30;

/// The flags of `bench`, as `redis-benchmark` spells them.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// `-c`: parallel connections.
    pub clients: usize,
    /// `-n`: requests per test.
    pub requests: u64,
    /// `-P`: commands sent at once by each connection.
    pub pipeline: usize,
    /// `-d`: bytes in SET/GET values.
    pub data_size: usize,
    /// `-t`: the tests.
    pub tests: Vec<Test>,
    /// How long a connection keeps trying to come back before giving up.
    pub retry_for: Duration,
    /// `--rate` (closed-loop without it) and `--warmup`.
    pub pace: Pace,
    /// `--duration`: each test runs this long (after its warm-up) instead of `-n` requests.
    pub duration: Option<Duration>,
    /// Whether to show the live line (a terminal, or `--progress`).
    pub progress: bool,
}

impl BenchOptions {
    /// Checks the bounds before anything is allocated or connected: `-c` from 1 to
    /// [`MAX_CLIENTS`], `-n` from 1 to [`MAX_REQUESTS`], `-P` from 1 to [`MAX_PIPELINE`], `-d` at
    /// most [`MAX_DATA_SIZE`], and the batches within [`MAX_BATCH_BYTES`].
    pub fn check(&self) -> Result<(), Error> {
        let usage = |what: String| Err(Error::Usage(format!("bench: {what}")));
        if let Some(d) = self.duration
            && let Err(e) = common::schedule::duration(d)
        {
            return usage(e);
        }
        if self.clients == 0 || self.pipeline == 0 || self.requests == 0 {
            return usage("-c, -n and -P must be at least 1".into());
        }
        if self.clients > MAX_CLIENTS {
            return usage(format!("-c is at most {MAX_CLIENTS}"));
        }
        if self.requests > MAX_REQUESTS {
            return usage(format!("-n is at most {MAX_REQUESTS}"));
        }
        if self.pipeline > MAX_PIPELINE {
            return usage(format!("-P is at most {MAX_PIPELINE}"));
        }
        if self.data_size > MAX_DATA_SIZE {
            return usage(format!("-d is at most {MAX_DATA_SIZE} (512 MiB)"));
        }
        let per_command = (self.data_size as u64).saturating_add(64);
        let bytes = (self.clients as u64)
            .saturating_mul(self.pipeline as u64)
            .saturating_mul(per_command);
        if bytes > MAX_BATCH_BYTES {
            return usage(format!(
                "-c {} x -P {} x -d {} needs {} MiB of batches; at most {} MiB",
                self.clients,
                self.pipeline,
                self.data_size,
                bytes >> 20,
                MAX_BATCH_BYTES >> 20
            ));
        }
        Ok(())
    }
}

/// What a run measured: a report per test run (the last one cut short when interrupted).
#[derive(Debug)]
pub struct Measured {
    /// The reports, in the order the tests ran.
    pub reports: Vec<TestReport>,
    /// The signal that ended the run early, if one did: the test it interrupted reports what
    /// it did so far, the tests after it did not run.
    pub interrupted: Option<Signal>,
}

/// One test of a run, as the raw client and the cluster client run it.
#[derive(Clone)]
pub(super) struct OneTest<'a> {
    redis: &'a Redis,
    o: &'a BenchOptions,
    keys: &'a Keys,
    test: Test,
    /// Set by a signal: no new batch is started.
    stop: &'a Rc<Cell<bool>>,
    /// The live line's counters, when it is shown.
    live: Option<Arc<Live>>,
}

/// Runs the tests and answers their reports; the run's keys are deleted at the end, whatever
/// happened. `shutdown` resolving (SIGINT, SIGTERM) stops the run: no new batch starts, the
/// batches in flight finish (within the timeout), and what was measured is answered. Must run
/// inside a `tokio::task::LocalSet` (one thread, like `redis-benchmark`).
pub async fn run(
    redis: &Redis,
    o: &BenchOptions,
    shutdown: impl Future<Output = Signal> + 'static,
) -> Result<Measured, Error> {
    o.check()?;
    let keys = Keys::new(redis.is_cluster());
    let stop = Rc::new(Cell::new(false));
    let signal = Rc::new(Cell::new(None));
    let watcher = tokio::task::spawn_local({
        let (stop, signal) = (stop.clone(), signal.clone());
        async move {
            signal.set(Some(shutdown.await));
            stop.set(true);
        }
    });
    let mut reports = Vec::new();
    let mut outcome = Ok(());
    for &test in &o.tests {
        if stop.get() {
            break;
        }
        let ticker = Ticker::start(&test.name().to_ascii_uppercase(), o.progress);
        let one = OneTest {
            redis,
            o,
            keys: &keys,
            test,
            stop: &stop,
            live: o.progress.then(|| ticker.live()),
        };
        let r = if redis.is_cluster() {
            cluster::run_cluster(one).await
        } else {
            raw::run_raw(one).await
        };
        ticker.stop();
        match r {
            Ok(report) => reports.push(report),
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    watcher.abort();
    // A server that never answered one command well (not Redis, closing, refusing): nothing
    // was written, and the clean-up would only wait on it. A cluster is cleaned up anyway.
    if keys.written() || reports.iter().any(|r| r.ok > 0) || redis.is_cluster() {
        run_keys::cleanup(redis, &keys, o.clients).await;
    }
    if let Some(signal) = signal.get() {
        return Ok(Measured {
            reports,
            interrupted: Some(signal),
        });
    }
    outcome?;
    if let Some(r) = reports.iter().find(|r| r.ok == 0) {
        return Err(Error::Command {
            command: "bench".into(),
            reason: format!(
                "nothing succeeded: {}: {} request(s) failed, {} not sent, {} reconnect(s); first: {}",
                r.test.name().to_ascii_uppercase(),
                r.errors,
                r.unsent,
                r.reconnects,
                r.first_error.as_deref().unwrap_or("?")
            ),
        });
    }
    if let Some(r) = reports.iter().find(|r| r.unsent > 0) {
        let lines: Vec<String> = reports.iter().map(TestReport::quiet_line).collect();
        return Err(Error::Connect {
            url: redis.url().clone(),
            reason: format!(
                "{}: gave up reconnecting after {}; {} request(s) not sent ({} failed)\n{}",
                r.test.name().to_ascii_uppercase(),
                duration(o.retry_for),
                r.unsent,
                r.errors,
                lines.join("\n")
            ),
        });
    }
    Ok(Measured {
        reports,
        interrupted: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(clients: usize, pipeline: usize, data_size: usize) -> BenchOptions {
        BenchOptions {
            clients,
            requests: 10,
            pipeline,
            data_size,
            tests: vec![Test::Set],
            retry_for: Duration::from_secs(1),
            pace: Pace::CLOSED,
            duration: None,
            progress: false,
        }
    }

    #[test]
    fn bounds_are_checked_before_anything_runs() {
        assert!(options(50, 16, 3).check().is_ok());
        assert!(options(0, 1, 3).check().is_err());
        assert_eq!(
            options(MAX_CLIENTS + 1, 1, 3)
                .check()
                .unwrap_err()
                .to_string(),
            "bench: -c is at most 10000"
        );
        assert_eq!(
            options(1000, 1000, 1 << 20)
                .check()
                .unwrap_err()
                .to_string(),
            "bench: -c 1000 x -P 1000 x -d 1048576 needs 1000061 MiB of batches; at most 1024 MiB"
        );
    }
}
