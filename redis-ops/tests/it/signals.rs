//! Issue 13, signals: a job cut short by SIGINT or SIGTERM cleans up what it created, says what
//! it did, and exits 130 (`common::exit::INTERRUPTED`): `bench` deletes its keys and prints what
//! it measured so far, `pool` deletes its counters; `subscribe` without `--count` runs until
//! stopped, so a signal is its normal end (exit 0); with `--count` it is cut short (130).

use std::time::{Duration, Instant};

use test_support::Signal;

use crate::support::*;

fn bench_interrupted(sig: Signal, name: &str) {
    let r = PrivateRedis::start();
    let mut p = Proc::spawn(&mut on(
        &r,
        &[
            "bench",
            "-q",
            "-t",
            "set,get",
            "-n",
            "1000000000",
            "-c",
            "4",
        ],
    ));
    r.wait_commands(5000, STEP);
    let mut conn = r.conn();
    let keys = scan_keys(&mut conn, "bench:*");
    assert!(!keys.is_empty(), "the bench should hold its key by now");
    let sent = Instant::now();
    p.signal(sig);
    let run = p.finish(Duration::from_secs(30));
    let took = sent.elapsed();
    assert_eq!(run.code(), Some(130), "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "error: interrupted ({name}) after 1 test(s); the figures above are what was measured so far; the run's keys are deleted\n"
        ),
        "{run:?}"
    );
    let lines = run.lines();
    assert_eq!(lines.len(), 1, "{run:?}");
    assert!(lines[0].starts_with("SET: "), "{run:?}");
    assert!(lines[0].contains(" requests per second"), "{run:?}");
    assert!(took < Duration::from_secs(2), "{took:?}: {run:?}");
    assert!(
        scan_keys(&mut conn, "bench:*").is_empty(),
        "keys left: {run:?}"
    );
}

#[test]
fn bench_on_sigint_deletes_its_keys_prints_what_it_measured_and_exits_130() {
    bench_interrupted(Signal::Int, "SIGINT");
}

#[test]
fn bench_on_sigterm_deletes_its_keys_prints_what_it_measured_and_exits_130() {
    bench_interrupted(Signal::Term, "SIGTERM");
}

#[test]
fn pool_on_sigint_deletes_its_counters_prints_what_it_measured_and_exits_130() {
    let r = PrivateRedis::start();
    let mut p = Proc::spawn(&mut on(&r, &["pool", "--ops", "100000000"]));
    r.wait_commands(2000, STEP);
    p.interrupt();
    let run = p.finish(Duration::from_secs(30));
    assert_one_line(
        &run,
        130,
        "error: interrupted (SIGINT); the run's counter keys under pool:",
    );
    assert!(
        run.stderr
            .ends_with(": are deleted; the figures above are what was measured so far\n"),
        "{run:?}"
    );
    assert!(run.took < Duration::from_secs(10), "{run:?}");
    assert!(scan_keys(&mut r.conn(), "pool:*").is_empty(), "{run:?}");
    // The figures so far: the pooled run had INCRs answered, the two others never started.
    let lines = run.lines();
    assert_eq!(lines.len(), 5, "{run:?}");
    assert!(
        lines[0].starts_with("pool: size ")
            && lines[0].ends_with(" (interrupted: the figures so far)"),
        "{run:?}"
    );
    assert!(lines[1].starts_with("server connections used: "), "{run:?}");
    let answered: u64 = lines[2]
        .strip_prefix("pool: ")
        .and_then(|l| l.split(" of 100000000 INCRs answered in ").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no pooled figures: {run:?}"));
    assert!(answered >= 1, "{run:?}");
    assert!(lines[2].ends_with(" ops/s"), "{run:?}");
    assert_eq!(
        lines[3..],
        [
            "connect-per-operation: not started",
            "one shared multiplexed connection, no pool: not started"
        ],
        "{run:?}"
    );
}

#[test]
fn subscribe_ends_with_0_on_a_signal_without_count_and_130_with_it() {
    let r = PrivateRedis::start();
    let cases = [
        (
            "subscribe news",
            Proc::terminate as fn(&mut Proc),
            0,
            "subscribed to news\n",
        ),
        (
            "subscribe news --count 5",
            Proc::interrupt,
            130,
            "subscribed to news\nerror: interrupted after 0 of 5 messages\n",
        ),
    ];
    for (line, signal, code, stderr) in cases {
        let mut p = subscribed(&mut on(&r, &args(line)), "news");
        signal(&mut p);
        let run = p.finish(STEP);
        assert_eq!(run.code(), Some(code), "{run:?}");
        assert_eq!(run.stderr, stderr, "{run:?}");
    }
}
