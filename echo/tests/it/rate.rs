//! Issue 21: `echo-bench --rate`, load at a fixed rate. A rate well below capacity is held
//! within 1%; a server frozen for a second (SIGSTOP, then SIGCONT) in the middle of the run
//! shows in the latency from the due time (p99 and max near a second) but not in the service
//! time's p99, which a closed-loop generator would have reported alone.

use std::thread;
use std::time::Duration;

use test_support::rate::{assert_progress_lines, assert_rate_held, assert_stall_in_corrected_only};
use test_support::{Proc, STEP, Signal, command, send_signal};

use crate::support::{BENCH, ServerProcess};

fn report(out: &test_support::Run) -> serde_json::Value {
    out.assert_success();
    serde_json::from_str(&out.stdout_text()).expect("one JSON object")
}

#[test]
fn a_rate_below_capacity_is_held_within_one_percent() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr.to_string();
    let args = [
        &addr,
        "--rate",
        "2000",
        "--connections",
        "8",
        "--duration",
        "4",
        "--warmup",
        "0.5",
        "--json",
    ];
    let out = test_support::run(command(BENCH).args(args), b"", STEP * 2);
    let v = report(&out);
    assert_rate_held(&v, 2000.0);
    // 4 s counted at 2000/s; the warm-up's messages are left out.
    let messages = v["messages"].as_u64().unwrap();
    assert!((7920..=8080).contains(&messages), "{messages}: {v}");
    assert_eq!(v["errors"], 0);
    assert_eq!(out.stderr, "", "a held rate warns of nothing");
    server.stop(Signal::Term);
}

#[test]
fn a_one_second_stall_shows_in_the_corrected_latency_only() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr.to_string();
    let args = [
        &addr,
        "--rate",
        "1000",
        "--connections",
        "10",
        "--duration",
        "5",
        "--json",
    ];
    let bench = Proc::spawn(command(BENCH).args(args));
    thread::sleep(Duration::from_secs(2));
    let pid = server.pid();
    send_signal(pid, Signal::Stop);
    thread::sleep(Duration::from_secs(1));
    send_signal(pid, Signal::Cont);
    let out = bench.finish(STEP * 2);
    let v = report(&out);
    assert_stall_in_corrected_only(&v, 1600.0);
    server.stop(Signal::Term);
}

#[test]
fn a_rate_beyond_capacity_is_reported_not_held() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr.to_string();
    // One connection of 1 MiB messages cannot echo a million of them per second.
    let args = [
        &addr,
        "--rate",
        "1000000",
        "--connections",
        "1",
        "--size",
        "1048576",
        "--duration",
        "1",
        "--json",
    ];
    let out = test_support::run(command(BENCH).args(args), b"", STEP * 2);
    let v = report(&out);
    assert_eq!(v["rate_held"], false, "{v}");
    assert!(v["achieved_rate"].as_f64().unwrap() < 990_000.0, "{v}");
    let warning = out.stderr_lines();
    assert_eq!(warning.len(), 1, "{warning:?}");
    assert!(
        warning[0].starts_with("warning: the rate was not held: ")
            && warning[0].contains(" operations/s achieved of the 1000000 asked for ("),
        "{warning:?}"
    );
    server.stop(Signal::Term);
}

#[test]
fn rate_bounds_are_usage_errors() {
    for (args, line) in test_support::rate::BOUNDS {
        let out = test_support::run(command(BENCH).args(args), b"", STEP);
        out.assert_code(2);
        assert_eq!(out.stderr_lines()[0], line, "{args:?}");
    }
}

#[test]
fn progress_prints_a_line_a_second_when_asked() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr.to_string();
    let args = [
        &addr,
        "--rate",
        "500",
        "--connections",
        "5",
        "--duration",
        "2.5",
        "--progress",
        "--json",
    ];
    let out = test_support::run(command(BENCH).args(args), b"", STEP);
    report(&out);
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_progress_lines(&lines, "echo-bench");
    server.stop(Signal::Term);
}
