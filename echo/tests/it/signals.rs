//! Issue 13, signals: `echo-client` and `echo-bench` stop on SIGINT or SIGTERM, say what they
//! did until then (one line; echo-bench prints the report of what completed first) and exit 130
//! (`common::exit::INTERRUPTED`); `echo-server` stops gracefully with 0, even when its stderr is
//! a closed pipe.

use std::io::Write;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use common::exit::INTERRUPTED;
use test_support::{Closed, Proc, Run, STEP, Signal, command, silent_listener};

use crate::support::{BENCH, CLIENT, SERVER, ServerProcess, server_with_closed, wait_for_handler};

/// How long after the signal the binary may take to exit.
const PROMPTLY: Duration = Duration::from_secs(2);

/// Sends `sig` once the handlers are installed, and waits for the exit; the time between the
/// signal and the exit too.
fn stop(proc: Proc, sig: Signal) -> (Run, Duration) {
    stop_after(proc, sig, Duration::ZERO)
}

/// [`stop`], `after` the handlers are installed.
fn stop_after(mut proc: Proc, sig: Signal, after: Duration) -> (Run, Duration) {
    wait_for_handler(proc.pid(), 2);
    wait_for_handler(proc.pid(), 15);
    thread::sleep(after);
    let sent = Instant::now();
    proc.signal(sig);
    let out = proc.finish(STEP);
    (out, sent.elapsed())
}

/// Exit 130, promptly after the signal.
fn interrupted(out: &Run, took: Duration) {
    assert_eq!(out.code(), Some(i32::from(INTERRUPTED)), "{out:?}");
    assert!(took < PROMPTLY, "{took:?}");
}

#[test]
fn echo_client_stdin_says_what_it_forwarded_and_exits_130() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr.to_string();
    let (mut client, mut stdin) = Proc::spawn_with_stdin(command(CLIENT).args(["--stdin", &addr]));
    stdin.write_all(b"abc\n").unwrap();
    client.expect_line("abc");
    // stdin stays open: the client would wait for more.
    let (out, took) = stop(client, Signal::Int);
    drop(stdin);
    assert_eq!(
        out.stderr,
        format!(
            "error: interrupted (SIGINT); 4 bytes of the input sent to {addr}, 4 bytes echoed back\n"
        )
    );
    interrupted(&out, took);
    assert_eq!(out.stdout_text(), "abc\n");
    eprintln!("measured: echo-client --stdin exited {took:?} after SIGINT");

    let server = ServerProcess::start(&["--udp"]);
    let addr = server.addr.to_string();
    let (mut client, mut stdin) =
        Proc::spawn_with_stdin(command(CLIENT).args(["--udp", "--stdin", &addr]));
    stdin.write_all(b"one\ntwo\n").unwrap();
    client.expect_line("one");
    client.expect_line("two");
    let (out, took) = stop(client, Signal::Term);
    assert_eq!(
        out.stderr,
        format!(
            "error: interrupted (SIGTERM); 2 lines of the input sent to {addr}, 2 echoed back\n"
        )
    );
    interrupted(&out, took);
}

#[test]
fn echo_client_waiting_for_an_echo_is_interrupted_with_130() {
    let (_silent, addr) = silent_listener();
    let addr = addr.to_string();
    let client = Proc::spawn(command(CLIENT).args([&addr, "--timeout", "60"]));
    let (out, took) = stop(client, Signal::Term);
    assert_eq!(
        out.stderr,
        format!("error: interrupted (SIGTERM); the echo from {addr} had not come back\n")
    );
    interrupted(&out, took);
    assert_eq!(out.stdout, b"");
}

#[test]
fn echo_bench_prints_the_report_of_what_completed_and_exits_130() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr.to_string();
    let args = [&addr, "--connections", "2", "--duration", "30", "--json"];
    let bench = Proc::spawn(command(BENCH).args(args));
    let (out, took) = stop_after(bench, Signal::Int, Duration::from_secs(1));
    interrupted(&out, took);
    let report: serde_json::Value = serde_json::from_str(&out.stdout_text()).expect("one JSON");
    let messages = report["messages"].as_u64().unwrap();
    let seconds = report["seconds"].as_f64().unwrap();
    assert!(messages > 0, "{report}");
    assert!((0.9..10.0).contains(&seconds), "{report}");
    assert_eq!(report["errors"], 0);
    let line = out.stderr.as_str();
    assert!(
        line.starts_with("error: interrupted (SIGINT); ran ")
            && line.ends_with(&format!(
                " of 30.0 s, the report covers the {messages} echoes completed\n"
            ))
            && line.lines().count() == 1,
        "{out:?}"
    );
    eprintln!(
        "measured: echo-bench exited {took:?} after SIGINT, {messages} echoes in {seconds} s"
    );

    // The text report, and SIGTERM.
    let bench = Proc::spawn(command(BENCH).args([&addr, "--duration", "30"]));
    let (out, took) = stop_after(bench, Signal::Term, Duration::from_millis(500));
    interrupted(&out, took);
    let text = out.stdout_text();
    assert!(
        text.starts_with(&format!("echo-bench: {addr}, 50 connections x 512 B, ")),
        "{text}"
    );
    assert!(text.contains("\nerrors       0\n"), "{text}");
    assert!(
        out.stderr.starts_with("error: interrupted (SIGTERM); ran "),
        "{out:?}"
    );
}

#[test]
fn echo_bench_interrupted_while_connecting_says_how_many_were_open() {
    // A listener that never accepts: once its queue (at most 4096) is full, connecting waits
    // (up to 10 s).
    let (_silent, addr) = silent_listener();
    let addr = addr.to_string();
    let bench = Proc::spawn(command(BENCH).args([&addr, "--connections", "1000"]));
    let (out, took) = stop_after(bench, Signal::Int, Duration::from_millis(500));
    interrupted(&out, took);
    assert_eq!(out.stdout, b"");
    assert!(
        out.stderr.starts_with("error: interrupted (SIGINT); ")
            && out
                .stderr
                .ends_with(&format!(" of 1000 connections to {addr} were open\n")),
        "{out:?}"
    );
    eprintln!(
        "measured: echo-bench exited {took:?} after SIGINT while connecting: {}",
        out.stderr.trim_end()
    );
}

#[test]
fn a_server_whose_stderr_is_closed_still_stops_with_0() {
    let mut server = server_with_closed(Closed::Stderr);
    let addr = test_support::addr_in(&server.first_line(STEP));
    let echoed = crate::support::run(CLIENT, &[&addr.to_string()], b"");
    echoed.assert_success();
    let (out, took) = stop(server, Signal::Term);
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert!(took < PROMPTLY, "{took:?}");
}

/// A log line to a closed stderr is dropped, not a panic (tracing-subscriber's own report of a
/// failed write used `eprintln!`, which panics there: exit 101 before listening; fixed in
/// `common::logging`). Here the warning about a low open-file limit, printed before the server
/// listens.
#[test]
fn a_warning_to_a_closed_stderr_does_not_stop_the_server() {
    let mut server = Proc::spawn_closed(
        &mut crate::support::with_fd_limit(64, SERVER, &["--port", "0"]),
        Closed::Stderr,
        Stdio::null(),
    );
    let first = server.next_line(STEP);
    assert!(
        first.is_some(),
        "no `listening on` line: {:?}",
        server.finish(STEP)
    );
    let (out, took) = stop(server, Signal::Term);
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert!(took < PROMPTLY, "{took:?}");
}
