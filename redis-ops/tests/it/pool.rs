//! `redis-ops pool`: 64 tasks share the pool, and the server never sees more connections
//! than the pool's size.

use std::time::Duration;

use crate::support::*;
use redis_ops::Redis;
use redis_ops::pool::{Ended, PoolOptions, run};

fn field<'a>(stdout: &'a str, label: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no '{label}' line in:\n{stdout}"))
}

#[test]
fn the_pool_never_exceeds_its_size_under_64_tasks() {
    let _ = redis();
    let out = run_args(&[
        "pool",
        "--size",
        "4",
        "--tasks",
        "64",
        "--ops",
        "3000",
        "--baseline-ops",
        "200",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", text(&out.stderr));
    let used: usize = field(&stdout, "server connections used: ")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=4).contains(&used),
        "{used} connections for a pool of 4"
    );
    assert_eq!(field(&stdout, "counter: "), "3000 (expected 3000)");
    assert!(field(&stdout, "ratio pool / connect-per-operation: ").ends_with('x'));
    assert!(
        stdout.starts_with("pool: size 4, 64 tasks, 3000 INCRs in "),
        "{stdout}"
    );
}

fn run_args(args: &[&str]) -> Run {
    crate::support::run(args)
}

/// Through the library, with a pool of 2: the CLIENT LIST sampler saw the pool's connections
/// (at least one, at most 2), and every INCR counted.
#[test]
fn a_pool_of_two_serves_64_tasks() {
    let _ = redis();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let report = rt
        .block_on(async {
            let redis = Redis::new(&url(), Duration::from_secs(5)).unwrap();
            let options = PoolOptions {
                size: 2,
                tasks: 64,
                ops: 2000,
                baseline_ops: 100,
                retry_for: Duration::from_secs(5),
            };
            tokio::time::timeout(
                Duration::from_mins(1),
                run(&redis, options, std::future::pending()),
            )
            .await
        })
        .expect("pool run hung")
        .expect("pool run failed");
    let Ended::Measured(report) = report else {
        panic!("not interrupted, yet: {report:?}");
    };
    assert!((1..=2).contains(&report.peak_connections), "{report}");
    assert!(report.samples >= 1);
    assert_eq!(report.counter, 2000);
    assert_eq!(report.baseline_counter, 100);
    assert!(report.name.starts_with("redis-ops-pool-"));
    // The counters are gone.
    let id = report.name.trim_start_matches("redis-ops-pool-");
    assert!(scan_keys(&mut redis(), &format!("pool:{id}:*")).is_empty());
}

#[test]
fn a_pool_of_size_zero_is_a_usage_error() {
    let out = run_args(&["pool", "--size", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: --size and --tasks must be at least 1\nRun 'redis-ops --help' for usage.\n"
    );
}
