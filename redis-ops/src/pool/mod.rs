//! `redis-ops pool`: many tasks sharing a bounded pool of connections (§2b), measured against
//! opening a connection for every operation.
//!
//! The pool is deadpool's: at most `size` connections, created on demand, handed to one
//! task at a time and returned when the task drops them. Each connection is named with
//! `CLIENT SETNAME redis-ops-pool-<random>` when it is created; a sampler counts the
//! connections with that name in `CLIENT LIST` while the tasks run. That count is what the
//! server saw, and it must never exceed `size`.

mod failures;
mod report;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::shutdown::Signal;
use redis::AsyncTypedCommands;
use tokio::task::JoinSet;

use failures::{Failure, Failures};
pub use report::{PoolReport, SoFar};

use crate::connect::{PoolError, Reconnecting, Redis};
use crate::error::{Error, describe};

/// What `pool` runs.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// The pool's maximum number of connections.
    pub size: usize,
    /// Concurrent tasks sharing the pool.
    pub tasks: usize,
    /// INCRs through the pool, spread over the tasks.
    pub ops: usize,
    /// INCRs in the connect-per-operation comparison (same number of tasks).
    pub baseline_ops: usize,
    /// After the server went away: how long a task keeps retrying (failed INCRs are counted,
    /// with a backoff of 50 ms to 1 s between them) before the run fails.
    pub retry_for: Duration,
}

/// How a `pool` run ended.
#[derive(Debug)]
pub enum Ended {
    /// It ran to its end and what the server saw agreed.
    Measured(PoolReport),
    /// A signal cut it short: what it measured so far, and the error to end with (exit 130).
    Interrupted(SoFar, Error),
}

/// Runs the pooled INCRs and the connect-per-operation INCRs, then checks what the server
/// saw: an error if the pool ever had more than `size` connections or an INCR went missing.
/// Its three counter keys are deleted at the end, also on failure or when `shutdown` resolves
/// (then [`Ended::Interrupted`] has the figures so far).
pub async fn run(
    redis: &Redis,
    options: PoolOptions,
    shutdown: impl Future<Output = Signal>,
) -> Result<Ended, Error> {
    if options.size == 0 || options.tasks == 0 {
        return Err(Error::Usage("--size and --tasks must be at least 1".into()));
    }
    let id = format!("{:08x}", rand::random::<u32>());
    let name = format!("redis-ops-pool-{id}");
    let key = format!("pool:{id}:counter");
    let baseline_key = format!("pool:{id}:baseline");
    let shared_key = format!("pool:{id}:shared");
    let mut admin = redis.reconnecting().await?;
    let mut measuring = admin.clone();
    let failures = Failures::new(options.retry_for);

    let outcome = tokio::select! {
        r = measure(redis, &options, &name, [&key, &baseline_key, &shared_key], &mut measuring, &failures) => r,
        signal = shutdown => Err(Error::interrupted(signal)),
    };
    let _ = tokio::time::timeout(
        redis.timeout(),
        admin.del(&[&key, &baseline_key, &shared_key]),
    )
    .await;
    let report = match outcome {
        Ok(report) => report,
        Err(Error::Interrupted(how)) => {
            let so_far = SoFar {
                options,
                name,
                peak_connections: failures.peak_connections.load(Ordering::Relaxed),
                runs: failures.so_far(),
            };
            return Ok(Ended::Interrupted(
                so_far,
                Error::Interrupted(format!(
                    "{how}; the run's counter keys under pool:{id}: are deleted; the figures above are what was measured so far"
                )),
            ));
        }
        Err(e) => return Err(e),
    };
    if report.peak_connections > options.size {
        return Err(Error::Disagreed {
            group: "pool",
            command: "CLIENT LIST".into(),
            expected: format!("at most {} connections named {}", options.size, report.name),
            got: report.peak_connections.to_string(),
        });
    }
    let plausible = |counter: i64, ops: usize, failed: usize| {
        // A failed INCR may still have been applied (the reply was lost, not the command).
        (ops.saturating_sub(failed) as i64..=ops as i64).contains(&counter)
    };
    if !report.restarted
        && (!plausible(report.counter, options.ops, report.failed[0])
            || !plausible(
                report.baseline_counter,
                options.baseline_ops,
                report.failed[1],
            ))
    {
        return Err(Error::Disagreed {
            group: "pool",
            command: "GET counter".into(),
            expected: format!("{} and {}", options.ops, options.baseline_ops),
            got: format!("{} and {}", report.counter, report.baseline_counter),
        });
    }
    Ok(Ended::Measured(report))
}

async fn measure(
    redis: &Redis,
    options: &PoolOptions,
    name: &str,
    [key, baseline_key, shared_key]: [&str; 3],
    admin: &mut Reconnecting,
    failures: &Failures,
) -> Result<PoolReport, Error> {
    let pool = redis.pool(options.size, name)?;
    let run_id_before = run_id(admin, redis.timeout()).await;

    // The sampler: CLIENT LIST on its own (reconnecting) connection until the pooled run is
    // over. A sample that fails (server gone) is skipped.
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (mut conn, name, stop) = (redis.reconnecting().await?, name.to_owned(), stop.clone());
        let peak_so_far = failures.peak_connections.clone();
        tokio::spawn(async move {
            let (mut peak, mut samples) = (0, 0);
            loop {
                let done = stop.load(Ordering::Relaxed);
                let list: redis::RedisResult<String> = redis::cmd("CLIENT")
                    .arg("LIST")
                    .query_async(&mut conn)
                    .await;
                if let Ok(list) = list {
                    peak = peak.max(count_named(&list, &name));
                    peak_so_far.fetch_max(peak, Ordering::Relaxed);
                    samples += 1;
                }
                if done {
                    return (peak, samples);
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };

    // The pooled run: every operation borrows a connection and gives it back.
    let started = Instant::now();
    let mut runs = Runs::new(options.tasks, failures);
    let shared_redis = Arc::new(redis.clone());
    let (r, k, p) = (shared_redis.clone(), Arc::<str>::from(key), pool.clone());
    runs.spawn(0, options.ops, move || {
        let (redis, key, pool) = (r.clone(), k.clone(), p.clone());
        async move {
            let mut conn = pool.get().await.map_err(|e| pool_failure(&redis, &e))?;
            conn.incr(&*key, 1)
                .await
                .map_err(|e| incr_failure(&key, &e))?;
            Ok(())
        }
    });
    let pooled_result = runs.join().await;
    let pooled = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    if let Err(e) = pooled_result {
        // The run failed (the server may be frozen): no waiting for a last sample.
        sampler.abort();
        return Err(e);
    }
    let sampled = tokio::time::timeout(redis.timeout(), sampler).await;
    let Ok(Ok((peak_connections, samples))) = sampled else {
        return Err(Error::TimedOut {
            what: "CLIENT LIST".into(),
            after: redis.timeout(),
        });
    };
    drop(pool);

    // The comparison: the same INCRs, each on a brand-new connection.
    let started = Instant::now();
    let (r, k) = (shared_redis, Arc::<str>::from(baseline_key));
    runs.spawn(1, options.baseline_ops, move || {
        let (redis, key) = (r.clone(), k.clone());
        async move {
            let mut conn = redis
                .connect_raw()
                .await
                .map_err(|(error, e)| Failure::of(error, e.as_ref()))?;
            conn.incr(&*key, 1)
                .await
                .map_err(|e| incr_failure(&key, &e))?;
            Ok(())
        }
    });
    runs.join().await?;
    let baseline = started.elapsed();

    // For comparison: no pool, every task clones one multiplexed (reconnecting) connection.
    let shared = redis.reconnecting().await?;
    let started = Instant::now();
    let k = Arc::<str>::from(shared_key);
    runs.spawn(2, options.ops, move || {
        let (mut conn, key) = (shared.clone(), k.clone());
        async move {
            conn.incr(&*key, 1)
                .await
                .map(|_| ())
                .map_err(|e| incr_failure(&key, &e))
        }
    });
    runs.join().await?;
    let multiplexed = started.elapsed();

    let restarted =
        run_id_before.is_none() || run_id(admin, redis.timeout()).await != run_id_before;
    let failed = failures.counts();
    let shared_counter = get_int(admin, shared_key, redis.timeout()).await? as usize;
    if !restarted
        && !(options.ops.saturating_sub(failed[2])..=options.ops).contains(&shared_counter)
    {
        return Err(Error::Disagreed {
            group: "pool",
            command: format!("GET {shared_key}"),
            expected: options.ops.to_string(),
            got: format!("{shared_counter:?}"),
        });
    }

    let counter = get_int(admin, key, redis.timeout()).await?;
    let baseline_counter = get_int(admin, baseline_key, redis.timeout()).await?;
    Ok(PoolReport {
        options: options.clone(),
        name: name.to_owned(),
        peak_connections,
        samples,
        counter: counter as i64,
        pooled,
        baseline_counter: baseline_counter as i64,
        baseline,
        multiplexed,
        failed,
        first_error: failures.first(),
        restarted,
    })
}

/// The server's `run_id` (INFO server): it changes when the server restarts.
async fn run_id(conn: &mut Reconnecting, within: Duration) -> Option<String> {
    let info: String =
        tokio::time::timeout(within, redis::cmd("INFO").arg("server").query_async(conn))
            .await
            .ok()?
            .ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("run_id:"))
        .map(|s| s.trim().to_owned())
}

/// `GET key` as an integer (0 when missing), within `within`.
async fn get_int(conn: &mut Reconnecting, key: &str, within: Duration) -> Result<isize, Error> {
    match tokio::time::timeout(within, conn.get_int(key)).await {
        Ok(r) => r.map(|n| n.unwrap_or(0)).map_err(|e| Error::Command {
            command: format!("GET {key}"),
            reason: describe(&e),
        }),
        Err(_) => Err(Error::TimedOut {
            what: format!("GET {key}"),
            after: within,
        }),
    }
}

/// How many `CLIENT LIST` lines carry `name=<name>`.
pub fn count_named(client_list: &str, name: &str) -> usize {
    let field = format!("name={name}");
    client_list
        .lines()
        .filter(|line| line.split(' ').any(|f| f == field))
        .count()
}

/// The tasks of one run at a time, sharing the run's [`Failures`].
struct Runs {
    tasks: JoinSet<Result<(), Error>>,
    /// Tasks per run.
    n: usize,
    failures: Failures,
    /// The run going on.
    which: usize,
}

impl Runs {
    fn new(n: usize, failures: &Failures) -> Self {
        Self {
            tasks: JoinSet::new(),
            n,
            failures: failures.clone(),
            which: 0,
        }
    }

    /// Spawns the tasks that together run `op` `ops` times as run `which`: each attempt
    /// through [`Failures::attempt`] (a failure counted and backed off, a permanent one or one
    /// past `--retry-for` ending the task with its error).
    fn spawn<F, Fut>(&mut self, which: usize, ops: usize, op: F)
    where
        F: Fn() -> Fut + Clone + Send + 'static,
        Fut: Future<Output = Result<(), Failure>> + Send,
    {
        self.which = which;
        self.failures.mark(which, true);
        let next = Arc::new(AtomicUsize::new(0));
        for _ in 0..self.n {
            let (next, failures, op) = (next.clone(), self.failures.clone(), op.clone());
            self.tasks.spawn(async move {
                let mut backoff = crate::connect::backoff();
                while next.fetch_add(1, Ordering::Relaxed) < ops {
                    failures.attempt(which, op(), &mut backoff).await?;
                }
                Ok(())
            });
        }
    }

    /// Waits for the run's tasks: the first error, the others aborted.
    async fn join(&mut self) -> Result<(), Error> {
        let joined = join_all(&mut self.tasks).await;
        self.failures.mark(self.which, false);
        joined
    }
}

async fn join_all(tasks: &mut JoinSet<Result<(), Error>>) -> Result<(), Error> {
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        let result = joined.unwrap_or_else(|e| {
            Err(Error::Command {
                command: "(task)".into(),
                reason: e.to_string(),
            })
        });
        if let (Err(e), None) = (result, &first_error) {
            first_error = Some(e);
            tasks.abort_all();
        }
    }
    first_error.map_or(Ok(()), Err)
}

fn incr_failure(key: &str, e: &redis::RedisError) -> Failure {
    Failure::of(incr_error(key, e), Some(e))
}

fn pool_failure(redis: &Redis, e: &PoolError) -> Failure {
    let cause = match e {
        PoolError::Backend(e) => Some(e),
        _ => None,
    };
    Failure::of(redis.pool_error(e), cause)
}

fn incr_error(key: &str, e: &redis::RedisError) -> Error {
    Error::Command {
        command: format!("INCRBY {key} 1"),
        reason: describe(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_exact_names() {
        let list = "id=3 addr=127.0.0.1:1 name=redis-ops-pool-ab age=0 cmd=incrby\n\
                    id=4 addr=127.0.0.1:2 name=redis-ops-pool-abc age=0\n\
                    id=5 addr=127.0.0.1:3 name= age=0\n\
                    id=6 addr=127.0.0.1:4 name=redis-ops-pool-ab age=1\n";
        assert_eq!(count_named(list, "redis-ops-pool-ab"), 2);
        assert_eq!(count_named(list, "other"), 0);
    }
}
