//! Issue 13, bounds and empty values: every count and size has a documented upper bound,
//! checked before anything is allocated or connected (a usage error, exit 2, at once, in a few
//! MiB); an empty `--cluster` list or URL is refused, never replaced by the default node; a
//! value larger than `set --stdin` takes is refused without being held whole.

use std::process::Command;
use std::time::Duration;

use crate::support::*;

/// Nothing listens there: a bound that is not checked first shows up as a connection error.
fn nowhere() -> Command {
    let mut c = bare();
    c.arg("--url").arg(format!("redis://{}/0", refused_addr()));
    c
}

/// `command` fails at once with the usage error `message` (exit 2, a few MiB).
fn usage_error(command: &mut Command, message: &str) {
    ends_as(
        command,
        b"",
        (2, &format!("error: {message}\n{HELP}")),
        (Duration::from_secs(2), 32 * 1024),
    );
}

/// Each `(arguments, message)` (the arguments after `--url <nowhere>`) is that usage error.
fn usage_errors(cases: &[(&str, &str)]) {
    for (line, message) in cases {
        usage_error(nowhere().args(args(line)), message);
    }
}

#[test]
fn bench_sizes_and_counts_are_bounded_before_anything_is_allocated() {
    let d = "bench: -d is at most 536870912 (512 MiB)";
    usage_errors(&[
        ("bench -d 1000000000000", d),
        ("bench -d 18446744073709551615", d),
        ("bench -P 1000000000", "bench: -P is at most 100000"),
        ("bench -n 10000000000", "bench: -n is at most 1000000000"),
        ("bench -c 1000000000", "bench: -c is at most 10000"),
        (
            "bench -c 10000 -P 100000",
            "bench: -c 10000 x -P 100000 x -d 3 needs 63896 MiB of batches; at most 1024 MiB",
        ),
    ]);
}

#[test]
fn bench_rates_and_durations_are_bounded() {
    usage_errors(&[
        ("bench --rate 0", "bench: --rate must be at least 1"),
        (
            "bench --rate 1000000000000",
            "bench: --rate must be at most 10000000",
        ),
        ("bench --rps 0", "bench: --rps must be at least 1"),
        (
            "bench --rate 10 --rps 10",
            "bench: give --rate or --rps, not both",
        ),
        (
            "bench --duration 0",
            "bench: --duration must be more than 0",
        ),
        (
            "bench --rate 10 --duration 86401",
            "bench: --duration must be at most 86400 seconds",
        ),
        (
            "bench --warmup 86401",
            "bench: --warmup must be at most 86400 seconds",
        ),
        (
            "bench -n 10 --duration 1",
            "bench: give -n or --duration, not both",
        ),
        (
            "bench --json --csv",
            "bench: give --json or --csv, not both",
        ),
    ]);
}

#[test]
fn pool_and_subscribe_counts_are_bounded() {
    let ops = "pool: --ops and --baseline-ops are at most 100000000";
    let count = "subscribe: --count is from 1 to 1000000000";
    usage_errors(&[
        (
            "pool --tasks 10000000",
            "pool: --size is at most 1024 and --tasks at most 100000",
        ),
        ("pool --ops 1000000000", ops),
        ("pool --baseline-ops 18446744073709551615", ops),
        ("subscribe ch --count 0", count),
        ("subscribe ch --count 10000000000", count),
        (
            "--timeout 1e30 get k",
            "invalid value '1e30' for --timeout: '1e30' seconds is more than a year",
        ),
    ]);
}

#[test]
fn empty_lists_and_values_are_usage_errors() {
    let cluster_empty =
        "--cluster: an empty seed URL (give redis://host:port, or several separated by commas)";
    for args in [
        &["--cluster", ",", "get", "k"][..],
        &["--cluster", "", "get", "k"],
        &["--cluster", " , ", "ping"],
        &[
            "--cluster",
            "redis://127.0.0.1:7000,,redis://127.0.0.1:7001",
            "get",
            "k",
        ],
    ] {
        usage_error(bare().args(args), cluster_empty);
    }
    usage_error(
        bare().args(["--url", "", "get", "k"]),
        "--url is empty: give a Redis URL",
    );
    usage_error(bare().args(["ping", ""]), "ping: an empty URL");
    usage_error(
        nowhere().args(["subscribe", ""]),
        "subscribe: a channel name is empty",
    );
    usage_error(
        nowhere().args(["bench", "-t", ","]),
        "bench: -t names no test",
    );
}

/// A value past `set --stdin`'s 64 MiB is refused after reading at most 64 MiB and a byte:
/// exit 1, one line, nothing sent (the server is never asked), well under 128 MiB of memory.
#[test]
fn a_stdin_value_past_the_bound_is_refused_without_being_held_whole() {
    let value = vec![b'x'; (64 << 20) + 4096];
    let m = ends_as(
        nowhere().args(["set", "k", "--stdin"]),
        &value,
        (
            1,
            "error: set --stdin: the value is larger than 64 MiB (the most set sends); nothing was sent\n",
        ),
        (Duration::from_secs(10), 100 * 1024),
    );
    eprintln!(
        "refused 64 MiB + 4 KiB in {:?}, {} KiB",
        m.run.took, m.peak_kib
    );
}

/// A value the server refuses (over its maxmemory) is named by its size in the error, never
/// echoed: a 2 MiB value used to be printed whole.
#[test]
fn a_refused_value_is_not_echoed() {
    let r = PrivateRedis::start_with(&["--maxmemory", "2mb"]);
    let value = vec![b'v'; 2 << 20];
    let m = measured(
        &mut on(&r, &["set", "big", "--stdin"]),
        &value,
        Duration::from_secs(30),
    );
    let run = &m.run;
    assert_eq!(run.code(), Some(1), "{run:?}");
    assert_eq!(
        run.stderr,
        "error: SET big <2097152 bytes>: OOM command not allowed when used memory > 'maxmemory'.\n",
        "{run:?}"
    );
    assert!(run.took < Duration::from_secs(5), "{run:?}");
}
