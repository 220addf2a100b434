//! Issue 13, deadlines: nothing in `echo-client` or `echo-bench` waits for a peer without a
//! bound. A peer that accepts and never answers (or never reads) is given up on after
//! `--timeout` (echo-client) or 2 s after the end (echo-bench), with one error line, exit 1,
//! and memory that does not grow with the input.

use std::io::Write;
use std::time::{Duration, Instant};

use test_support::{Proc, Run, STEP, command, silent_listener};

use crate::support::{BENCH, CLIENT, Peak, Zeros, run};

/// `out` failed (exit 1) with exactly `stderr`, after `timeout` and a little more.
fn failed_after(out: &Run, stderr: &str, took: Duration, timeout: f64) {
    assert_eq!(out.stderr, stderr);
    assert_eq!(out.code(), Some(1), "{out:?}");
    about(took, timeout);
}

/// `took` is `timeout` and a little more (the start of a debug binary, a loaded machine).
fn about(took: Duration, timeout: f64) {
    let took = took.as_secs_f64();
    assert!(
        took >= timeout - 0.05 && took < timeout + 2.0,
        "{took:.2} s for a timeout of {timeout} s"
    );
}

/// A peer that accepts connections and never reads or answers (kept while the first is held),
/// and its address as an argument.
fn silent_peer() -> (impl Sized, String) {
    let (keep, addr) = silent_listener();
    (keep, addr.to_string())
}

#[test]
fn one_echo_from_a_silent_udp_peer_is_bounded_by_the_timeout() {
    // A UDP socket that receives and never answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let out = run(CLIENT, &["--udp", &addr, "--timeout", "0.5"], b"");
    let line =
        format!("error: no complete echo from {addr} within 500.0 ms (0 of 11 bytes came back)\n");
    failed_after(&out, &line, out.took, 0.5);
    eprintln!(
        "measured: echo-client --udp --timeout 0.5 against silence: {:?}",
        out.took
    );
}

#[test]
fn stdin_to_a_peer_that_never_reads_is_bounded_and_holds_no_input() {
    let (_silent, addr) = silent_peer();
    // 1 GB on stdin: the peer's buffers fill, then nothing more is taken.
    let (_zeros, input) = Zeros::start(1_000_000_000);
    let client = Proc::spawn_with(
        command(CLIENT).args(["--stdin", &addr, "--timeout", "1"]),
        input,
    );
    let peak = Peak::watch(client.pid());
    let out = client.finish(STEP);
    let line = out.stderr.trim_end();
    assert!(
        line.starts_with(&format!(
            "error: {addr} took nothing more of the input for 1.0 s ("
        )) && line.ends_with(" bytes sent so far)")
            && out.stderr.lines().count() == 1,
        "{out:?}"
    );
    assert_eq!(out.code(), Some(1));
    about(out.took, 1.0);
    let kib = peak.kib();
    assert!(kib < 30 * 1024, "peak {kib} KiB");
    eprintln!(
        "measured: echo-client --stdin into a peer that never reads: {:?}, peak RSS {kib} KiB",
        out.took
    );
}

#[test]
fn stdin_left_open_while_the_echo_is_owed_is_bounded() {
    // The peer takes the bytes and never echoes them; stdin stays open (a terminal, say).
    let (_silent, addr) = silent_peer();
    let (client, mut stdin) =
        Proc::spawn_with_stdin(command(CLIENT).args(["--stdin", &addr, "--timeout", "1"]));
    let started = Instant::now();
    stdin.write_all(b"abc\n").unwrap();
    let out = client.finish(STEP);
    drop(stdin);
    let line =
        format!("error: no complete echo from {addr} within 1.0 s (0 of 4 bytes came back)\n");
    failed_after(&out, &line, started.elapsed(), 1.0);

    // At the end of stdin, a peer that neither answers nor closes.
    let out = run(CLIENT, &["--stdin", &addr, "--timeout", "0.5"], b"abc\n");
    let line = format!(
        "error: {addr} sent nothing for 500.0 ms after the input ended, and did not close\n"
    );
    failed_after(&out, &line, out.took, 0.5);
}

#[test]
fn echo_bench_against_a_peer_that_never_answers_ends_2_s_after_the_end() {
    let (_silent, addr) = silent_peer();
    let out = run(
        BENCH,
        &[&addr, "--connections", "2", "--duration", "0.5", "--json"],
        b"",
    );
    let line = "error: 2 error(s) during the benchmark, first: 2 connection(s) got no echo \
                within 2.0 s of the end\n";
    failed_after(&out, line, out.took, 2.5);
    let report: serde_json::Value = serde_json::from_str(&out.stdout_text()).unwrap();
    assert_eq!(report["messages"], 0);
    assert_eq!(report["errors"], 2);
    eprintln!(
        "measured: echo-bench --duration 0.5 against silence: {:?}",
        out.took
    );
}
