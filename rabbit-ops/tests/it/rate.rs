//! Issue 21: `rabbit-ops bench --rate`, messages at a fixed rate. A rate well below capacity is
//! held within 1%; a proxy between the bench and the broker that freezes for a second in the
//! middle of the run shows in the latency from the due time (p99 and max near a second) but not
//! in the service time's p99. Issue 22.7: a bench killed with SIGKILL leaves no queue behind for
//! longer than its expiry.

use std::thread;
use std::time::{Duration, Instant};

use rabbit_ops::bench::QUEUE_EXPIRES;
use test_support::rate::{assert_progress_lines, assert_rate_held, assert_stall_in_corrected_only};
use test_support::{Proc, STEP, Signal, send_signal};

use crate::stalls::Freezer;
use crate::support::{Cleanup, at, bench_queue, cmd, connect, run};

fn report(out: &test_support::Run) -> serde_json::Value {
    out.assert_success();
    serde_json::from_str(&out.stdout_text()).expect("one JSON object")
}

#[test]
fn a_rate_below_capacity_is_held_within_one_percent() {
    let _clean = Cleanup::new();
    let args = [
        "bench",
        "--rate",
        "2000",
        "--producers",
        "2",
        "--consumers",
        "2",
        "--duration",
        "4",
        "--warmup",
        "0.5",
        "--json",
    ];
    let out = run(cmd(&args));
    let v = report(&out);
    assert_rate_held(&v, 2000.0);
    // 4 s counted at 2000/s; the warm-up's messages are published but left out.
    let messages = v["messages"].as_u64().unwrap();
    assert!((7920..=8080).contains(&messages), "{messages}: {v}");
    let published = v["published"].as_u64().unwrap();
    assert!((8900..=9100).contains(&published), "{published}: {v}");
    assert_eq!(
        (&v["lost"], &v["duplicates"]),
        (&0.into(), &0.into()),
        "{v}"
    );
    // The fields scripts read are still there.
    for field in ["publish_per_s", "consume_per_s", "p50_ms", "p99_ms"] {
        assert!(v[field].as_f64().unwrap() > 0.0, "{field}: {v}");
    }
    assert_eq!(out.stderr, "", "a held rate warns of nothing");
}

/// With confirms, each producer keeps one message in flight: a frozen broker holds the
/// producers, the messages due meanwhile wait in the bench, and only the latency from their
/// due time counts that wait.
#[test]
fn a_one_second_freeze_shows_in_the_corrected_latency_only() {
    let _clean = Cleanup::new();
    let proxy = Freezer::start();
    let url = format!("amqp://guest:guest@{}/%2f", proxy.addr);
    let args = [
        "bench",
        "--rate",
        "400",
        "--producers",
        "20",
        "--consumers",
        "2",
        "--confirm",
        "--duration",
        "6",
        "--json",
    ];
    let bench = Proc::spawn(&mut at(&url, &args));
    thread::sleep(Duration::from_secs(2));
    proxy.freeze();
    thread::sleep(Duration::from_secs(1));
    proxy.thaw();
    let out = bench.finish(STEP * 2);
    let v = report(&out);
    // The corrected max: the second the freeze lasted, and the catch-up after it on a busy
    // machine.
    assert_stall_in_corrected_only(&v, 2000.0);
    assert_eq!(
        (&v["lost"], &v["duplicates"]),
        (&0.into(), &0.into()),
        "{v}"
    );
}

/// A rate the broker cannot take is reported as not held, on stderr and in JSON; the run still
/// ends at the end of `--duration`, not when the schedule would.
#[test]
fn a_rate_beyond_capacity_is_reported_not_held() {
    let _clean = Cleanup::new();
    // One producer of 1 MiB messages, each confirmed before the next, cannot publish a million
    // per second.
    let args = [
        "bench",
        "--rate",
        "1000000",
        "--size",
        "1048576",
        "--confirm",
        "--duration",
        "1",
        "--json",
    ];
    let out = run(cmd(&args));
    let v = report(&out);
    assert_eq!(v["rate_held"], false, "{v}");
    assert!(v["achieved_rate"].as_f64().unwrap() < 990_000.0, "{v}");
    assert_eq!(v["lost"], 0, "{v}");
    let warning = out.stderr_lines();
    assert_eq!(warning.len(), 1, "{warning:?}");
    assert!(
        warning[0].starts_with("warning: the rate was not held: ")
            && warning[0].contains(" of the 1000000 asked for ("),
        "{warning:?}"
    );
    assert!(out.took < Duration::from_secs(12), "{:?}", out.took);
}

#[test]
fn rate_bounds_are_usage_errors() {
    let more: [(&[&str], &str); 3] = [
        (
            &["--messages", "10", "--duration", "1"],
            "error: --messages and --duration exclude each other: a run is a number of \
             messages or a time",
        ),
        (
            &["--rate", "100000", "--duration", "2000"],
            "error: --rate x (--warmup + --duration) must be at most 100000000 messages, not \
             200000000",
        ),
        (
            &["--rate", "1", "--messages", "100000"],
            "error: --messages 100000 at --rate 1 take 100000 s: a run lasts at most 86400 \
             seconds",
        ),
    ];
    for (args, line) in test_support::rate::BOUNDS.into_iter().chain(more) {
        // Checked before anything connects: a refused address is never reached.
        let url = format!("amqp://guest:guest@{}", test_support::refused_addr());
        let mut c = at(&url, &["bench"]);
        c.args(args);
        let out = run(c);
        out.assert_code(2);
        assert_eq!(out.stderr_lines()[0], line, "{args:?}");
    }
}

#[test]
fn progress_prints_a_line_a_second_when_asked() {
    let _clean = Cleanup::new();
    let args = [
        "bench",
        "--rate",
        "500",
        "--duration",
        "2.5",
        "--progress",
        "--json",
    ];
    let out = run(cmd(&args));
    report(&out);
    let lines = out.stderr_lines();
    assert!((2..=3).contains(&lines.len()), "{lines:?}");
    assert_progress_lines(&lines[..2], "rabbit-ops bench");
}

/// Issue 22.7: SIGKILL leaves the bench no chance to delete its queue; the broker does, once
/// the queue has gone [`QUEUE_EXPIRES`] without a consumer.
#[test]
fn a_killed_bench_leaves_its_queue_only_until_it_expires() {
    let _clean = Cleanup::new();
    let mut p = Proc::spawn(&mut cmd(&[
        "-v",
        "bench",
        "--rate",
        "1000",
        "--duration",
        "600",
    ]));
    let queue = bench_queue(&mut p);
    thread::sleep(Duration::from_secs(1));
    send_signal(p.pid(), Signal::Kill);
    let killed = Instant::now();
    let r = p.finish(STEP);
    assert_eq!(r.code(), None, "killed: {r:?}");
    let exists = |queue: &str| {
        let mut conn = connect();
        let ch = conn.open_channel(None).unwrap();
        let found = ch.queue_declare_passive(queue).is_ok();
        let _ = conn.close();
        found
    };
    // Left behind at first: nothing of the bench deleted it.
    assert!(exists(&queue), "{queue} gone at once");
    // One look after the expiry and some slack (a passive declare may count as a use of the
    // queue, so no polling before).
    let slack = Duration::from_secs(3);
    thread::sleep((QUEUE_EXPIRES + slack).saturating_sub(killed.elapsed()));
    assert!(
        !exists(&queue),
        "{queue} still there {:?} after the kill",
        killed.elapsed()
    );
}
