//! `redis-ops pool`: its arguments, their bounds, and the run.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use argh::FromArgs;
use common::output::Out;

use super::connection::{Connection, OnCluster};
use super::{RETRY_FOR, Threads, done, execute, printed_if_read, shutdown, usage};
use crate::connect::Redis;
use crate::error::Error;
use crate::pool::{self, Ended, PoolOptions};

/// The most connections `pool --size` opens.
pub const MAX_POOL_SIZE: usize = 1024;

/// The most tasks `pool --tasks` starts.
pub const MAX_POOL_TASKS: usize = 100_000;

/// The most INCRs `pool --ops` and `--baseline-ops` run.
pub const MAX_POOL_OPS: usize = 100_000_000;

/// many tasks share a bounded connection pool; compare with a connection per operation
#[derive(FromArgs)]
#[argh(subcommand, name = "pool")]
pub struct Args {
    /// most connections the pool opens (default 4, at most 1024)
    #[argh(option, default = "4")]
    pub size: usize,
    /// concurrent tasks (default 64, at most 100000)
    #[argh(option, default = "64")]
    pub tasks: usize,
    /// INCRs through the pool (default 10000, at most 100000000)
    #[argh(option, default = "10000")]
    pub ops: usize,
    /// INCRs with a new connection each (default: the smaller of --ops and
    /// 1000; at most 100000000)
    #[argh(option)]
    pub baseline_ops: Option<usize>,
    /// seconds a task keeps retrying while the server is unreachable (default 30)
    #[argh(option, default = "RETRY_FOR", from_str_fn(common::cli::positive_secs))]
    pub retry_for: Duration,
}

/// `pool`, checked.
#[derive(Debug)]
pub struct Options {
    /// The server (a single node: a pool holds one server's connections).
    pub redis: Redis,
    /// What to run.
    pub run: PoolOptions,
}

impl Options {
    /// The connection flags (no `--cluster`), then the bounds.
    pub fn new(a: &Args, to: &Connection) -> Result<Self, Error> {
        let redis = to.redis(OnCluster::Refused("pool"))?;
        if a.size == 0 || a.tasks == 0 {
            return Err(usage("--size and --tasks must be at least 1"));
        }
        if a.size > MAX_POOL_SIZE || a.tasks > MAX_POOL_TASKS {
            return Err(usage(&format!(
                "pool: --size is at most {MAX_POOL_SIZE} and --tasks at most {MAX_POOL_TASKS}"
            )));
        }
        if a.ops > MAX_POOL_OPS || a.baseline_ops.is_some_and(|n| n > MAX_POOL_OPS) {
            return Err(usage(&format!(
                "pool: --ops and --baseline-ops are at most {MAX_POOL_OPS}"
            )));
        }
        Ok(Self {
            redis,
            run: PoolOptions {
                size: a.size,
                tasks: a.tasks,
                ops: a.ops,
                baseline_ops: a.baseline_ops.unwrap_or(a.ops.min(1000)),
                retry_for: a.retry_for,
            },
        })
    }
}

/// Runs the pool and its comparisons and prints the report; a signal prints the figures so
/// far and ends with the interruption (exit 130).
pub fn run<W: Write>(args: &Args, to: &Connection, out: &mut Out<W>) -> Result<ExitCode, Error> {
    let Options { redis, run } = Options::new(args, to)?;
    done(execute(&redis, Threads::All, async {
        match pool::run(&redis, run, shutdown()?).await? {
            Ended::Measured(report) => Ok(out.line(format_args!("{report}"))?),
            Ended::Interrupted(so_far, error) => {
                // The figures are printed if stdout still takes them; the run ends with the
                // interruption (exit 130) either way.
                printed_if_read(out.line(format_args!("{so_far}")))?;
                Err(error)
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::cli::tests::parse;

    fn refusal(args: &[&str]) -> String {
        let (to, Command::Pool(a)) = parse(args).unwrap() else {
            panic!("not pool")
        };
        Options::new(&a, &to).unwrap_err().to_string()
    }

    #[test]
    fn one_node_and_bounded() {
        assert_eq!(
            refusal(&["--cluster", "redis://h:2", "pool"]),
            "pool does not run on a cluster (--cluster): use --url with one node"
        );
        assert_eq!(
            refusal(&["pool", "--size", "5000"]),
            "pool: --size is at most 1024 and --tasks at most 100000"
        );
    }
}
