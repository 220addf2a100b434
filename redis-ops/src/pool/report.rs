//! What `pool` measured, and its report.

use std::fmt;
use std::time::Duration;

use super::PoolOptions;

/// What `pool` measured.
#[derive(Debug, Clone)]
pub struct PoolReport {
    /// The options it ran with.
    pub options: PoolOptions,
    /// The CLIENT SETNAME given to the pool's connections.
    pub name: String,
    /// The most connections with that name `CLIENT LIST` showed at once.
    pub peak_connections: usize,
    /// How many `CLIENT LIST` samples were taken.
    pub samples: usize,
    /// The shared counter after the pooled run (must equal `ops`).
    pub counter: i64,
    /// Time taken by the pooled run.
    pub pooled: Duration,
    /// The counter after the connect-per-operation run (must equal `baseline_ops`).
    pub baseline_counter: i64,
    /// Time taken by the connect-per-operation run.
    pub baseline: Duration,
    /// Time taken by the same `ops` INCRs from the same tasks on one shared multiplexed
    /// connection (no pool at all).
    pub multiplexed: Duration,
    /// INCRs that failed (server gone, no reply) in the pooled, connect-per-operation and
    /// multiplexed runs.
    pub failed: [usize; 3],
    /// The first failure.
    pub first_error: Option<String>,
    /// The server restarted during the run (its `run_id` changed): counters were not checked.
    pub restarted: bool,
}

impl PoolReport {
    /// Pooled operations per second.
    pub fn pooled_rate(&self) -> f64 {
        rate(self.options.ops, self.pooled)
    }

    /// Connect-per-operation operations per second.
    pub fn baseline_rate(&self) -> f64 {
        rate(self.options.baseline_ops, self.baseline)
    }

    /// Operations per second on one shared multiplexed connection.
    pub fn multiplexed_rate(&self) -> f64 {
        rate(self.options.ops, self.multiplexed)
    }

    /// How many times faster the pool is.
    pub fn ratio(&self) -> f64 {
        self.pooled_rate() / self.baseline_rate().max(f64::MIN_POSITIVE)
    }
}

fn rate(ops: usize, took: Duration) -> f64 {
    ops as f64 / took.as_secs_f64().max(1e-9)
}

impl fmt::Display for PoolReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        writeln!(
            f,
            "pool: size {}, {} tasks, {} INCRs in {:.3} s = {:.0} ops/s",
            o.size,
            o.tasks,
            o.ops,
            self.pooled.as_secs_f64(),
            self.pooled_rate()
        )?;
        writeln!(
            f,
            "server connections used: {} (CLIENT LIST name={}, peak of {} samples; pool size {})",
            self.peak_connections, self.name, self.samples, o.size
        )?;
        if self.restarted {
            writeln!(
                f,
                "counter: {} (not checked: the server restarted during the run and lost it)",
                self.counter
            )?;
        } else {
            writeln!(f, "counter: {} (expected {})", self.counter, o.ops)?;
        }
        if self.failed.iter().any(|&n| n > 0) {
            writeln!(
                f,
                "failed INCRs (server unreachable, retried with backoff): pool {}, connect-per-operation {}, multiplexed {}; first: {}",
                self.failed[0],
                self.failed[1],
                self.failed[2],
                common::redact::redact_all(self.first_error.as_deref().unwrap_or("?"))
            )?;
        }
        writeln!(
            f,
            "connect-per-operation: {} tasks, {} INCRs in {:.3} s = {:.0} ops/s (counter {})",
            o.tasks,
            o.baseline_ops,
            self.baseline.as_secs_f64(),
            self.baseline_rate(),
            self.baseline_counter
        )?;
        writeln!(
            f,
            "ratio pool / connect-per-operation: {:.1}x",
            self.ratio()
        )?;
        write!(
            f,
            "one shared multiplexed connection, no pool: {} tasks, {} INCRs in {:.3} s = {:.0} ops/s ({:.1}x the pool)",
            o.tasks,
            o.ops,
            self.multiplexed.as_secs_f64(),
            self.multiplexed_rate(),
            self.multiplexed_rate() / self.pooled_rate().max(f64::MIN_POSITIVE)
        )
    }
}

/// What a `pool` run a signal cut short measured so far.
#[derive(Debug, Clone)]
pub struct SoFar {
    /// The options it ran with.
    pub options: PoolOptions,
    /// The CLIENT SETNAME given to the pool's connections.
    pub name: String,
    /// The most connections with that name `CLIENT LIST` showed at once, so far.
    pub peak_connections: usize,
    /// The pooled, connect-per-operation and multiplexed runs: INCRs answered, and how long
    /// the run went on (`None`: not started).
    pub runs: [(usize, Option<Duration>); 3],
}

impl fmt::Display for SoFar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        writeln!(
            f,
            "pool: size {}, {} tasks (interrupted: the figures so far)",
            o.size, o.tasks
        )?;
        writeln!(
            f,
            "server connections used: {} (CLIENT LIST name={}, peak so far; pool size {})",
            self.peak_connections, self.name, o.size
        )?;
        let names = [
            "pool",
            "connect-per-operation",
            "one shared multiplexed connection, no pool",
        ];
        let ops = [o.ops, o.baseline_ops, o.ops];
        for (i, ((answered, took), name)) in self.runs.iter().zip(names).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match took {
                Some(took) => write!(
                    f,
                    "{name}: {answered} of {} INCRs answered in {:.3} s = {:.0} ops/s",
                    ops[i],
                    took.as_secs_f64(),
                    rate(*answered, *took)
                )?,
                None => write!(f, "{name}: not started")?,
            }
        }
        Ok(())
    }
}
