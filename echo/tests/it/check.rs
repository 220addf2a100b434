//! `echo-client --wait`, `--json` and several addresses (issue 15): each reason a check fails
//! is its own line; a server started late passes; one never started fails in time; several
//! servers are checked at once.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::{Duration, Instant};

use test_support::{Proc, STEP, Signal, command, refused_addr, silent_listener};

use crate::support::{CLIENT, SERVER, ServerProcess, run, wait_for_handler};

/// A server that greets every client with `banner` and then reads until the client leaves,
/// like an SMTP or SSH server: something listening that is not an echo server.
fn banner_server(banner: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            thread::spawn(move || {
                let _ = s.write_all(banner);
                let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
                let mut sink = [0u8; 256];
                while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
            });
        }
    });
    addr
}

/// `not ready after <N.N> s: <reason>` for `addr`, on one line, with N.N from `from` to `to`.
fn assert_not_ready(stderr: &str, addr: &str, reason: &str, from: f64, to: f64) {
    let line = stderr.strip_suffix('\n').unwrap_or(stderr);
    assert!(!line.contains('\n'), "one line: {stderr}");
    let waited = line
        .strip_prefix(&format!("error: {addr} not ready after "))
        .and_then(|rest| rest.strip_suffix(&format!(" s: {reason}")))
        .unwrap_or_else(|| panic!("unexpected stderr: {stderr}"));
    let waited: f64 = waited.parse().unwrap();
    assert!((from..=to).contains(&waited), "{stderr}");
}

#[test]
fn nothing_listening() {
    let addr = refused_addr().to_string();
    let out = run(CLIENT, &["--json", &addr], b"");
    out.assert_code(1);
    assert_eq!(out.stderr, format!("error: {addr}: connection refused\n"));
    let v: serde_json::Value = serde_json::from_str(&out.stdout_text()).unwrap();
    assert_eq!(v["target"], addr);
    assert_eq!(v["ok"], false);
    assert_eq!(v["attempts"], 1);
    assert_eq!(v["error"], format!("{addr}: connection refused"));
    assert_eq!(v["server"], serde_json::Value::Null);
}

#[test]
fn never_started_fails_within_the_deadline_plus_one_second() {
    let addr = refused_addr().to_string();
    let start = Instant::now();
    let out = run(CLIENT, &["--wait", "3", &addr], b"");
    let took = start.elapsed();
    out.assert_code(1);
    assert!(took >= Duration::from_secs(3), "gave up after {took:?}");
    assert!(took < Duration::from_secs(4), "gave up after {took:?}");
    assert_eq!(out.stdout_text(), "");
    assert_not_ready(&out.stderr, &addr, "connection refused", 2.9, 3.9);
}

#[test]
fn something_that_is_not_an_echo_server_is_refused_at_once() {
    let addr = banner_server(b"220 mail.example.com ESMTP ready\r\n").to_string();
    let start = Instant::now();
    let out = run(CLIENT, &["--wait", "10", &addr], b"");
    out.assert_code(1);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "waited for a permanent refusal"
    );
    assert_eq!(
        out.stderr,
        format!(
            "error: {addr}: not an echo server: it answered \"220 mail.example.com ESMTP ready\\r\\n\"\n"
        )
    );
    assert_eq!(out.stdout_text(), "");
}

#[test]
fn a_server_that_never_answers_is_bounded_by_the_timeout() {
    let (_silent, addr) = silent_listener();
    let addr = addr.to_string();
    let start = Instant::now();
    let out = run(CLIENT, &["--timeout", "0.5", "--json", &addr], b"");
    let took = start.elapsed();
    out.assert_code(1);
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(
        out.stderr,
        format!("error: {addr}: no answer within 500.0 ms\n")
    );

    let out = run(CLIENT, &["--timeout", "0.5", "--wait", "1", &addr], b"");
    out.assert_code(1);
    assert_not_ready(&out.stderr, &addr, "no answer within 500.0 ms", 0.9, 1.9);
}

#[test]
fn an_echo_server_passes_with_text_and_json() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr.to_string();
    let out = run(CLIENT, &["--wait", "5", &addr], b"");
    out.assert_success();
    assert_eq!(out.stderr, "");
    let line = out.stdout_text();
    assert!(
        line.starts_with(&format!("ok {addr}: echo server, round trip "))
            && line.ends_with(" ms\n"),
        "{line}"
    );
    let out = run(CLIENT, &["--json", &addr], b"");
    out.assert_success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout_text()).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["server"], "echo server");
    assert_eq!(v["attempts"], 1);
    assert!(v["round_trip_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(v["error"], serde_json::Value::Null);
    // Two echoes of a random line each, counted by the server.
    let stopped = server.stop(Signal::Term);
    assert!(
        stopped
            .stderr
            .starts_with("echo-server: stopped; 2 connections served, "),
        "{stopped:?}"
    );
}

#[test]
fn several_servers_are_checked_at_once() {
    let server = ServerProcess::start(&[]);
    let (good, bad1, bad2) = (
        server.addr.to_string(),
        refused_addr().to_string(),
        refused_addr().to_string(),
    );
    let start = Instant::now();
    let out = run(CLIENT, &["--wait", "2", &bad1, &good, &bad2, "--json"], b"");
    let took = start.elapsed();
    out.assert_code(1);
    // One after the other, the two failures alone would take 4 s.
    assert!(took < Duration::from_secs(3), "took {took:?}");
    let objects: Vec<serde_json::Value> = out
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let targets: Vec<&str> = objects
        .iter()
        .map(|v| v["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, [&bad1, &good, &bad2]);
    let oks: Vec<bool> = objects.iter().map(|v| v["ok"].as_bool().unwrap()).collect();
    assert_eq!(oks, [false, true, false]);
    let errors: Vec<&str> = out.stderr_lines();
    assert_eq!(errors.len(), 2, "{out:?}");
    assert_not_ready(errors[0], &bad1, "connection refused", 1.9, 2.9);
    assert_not_ready(errors[1], &bad2, "connection refused", 1.9, 2.9);
}

/// A port for an echo-server started later: one in 20000-29999 (below the ephemeral ports)
/// where nothing answers now. It is not reserved: when the server cannot listen there, the
/// test tries again with another port.
fn candidate_port() -> u16 {
    use std::hash::BuildHasher;
    loop {
        let n = std::hash::RandomState::new().hash_one(Instant::now());
        let port = 20_000 + (n % 10_000) as u16;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            return port;
        }
    }
}

#[test]
fn a_server_started_two_seconds_later_passes() {
    for _ in 0..5 {
        let port = candidate_port().to_string();
        let addr = format!("127.0.0.1:{port}");
        let start = Instant::now();
        let client = Proc::spawn(command(CLIENT).args(["--wait", "10", &addr]));
        thread::sleep(Duration::from_secs(2));
        let mut server = Proc::spawn(command(SERVER).args(["--port", &port]));
        let Some(first) = server.next_line(STEP) else {
            // Taken meanwhile by someone else: try another port.
            let run = server.finish(STEP);
            assert!(run.stderr.contains("address already in use"), "{run:?}");
            continue;
        };
        assert_eq!(first, format!("listening on {addr}"));
        let out = client.finish(STEP);
        out.assert_success();
        assert!(start.elapsed() < Duration::from_secs(10));
        assert!(
            out.stdout_text()
                .starts_with(&format!("ok {addr}: echo server, round trip ")),
            "{out:?}"
        );
        assert_eq!(out.stderr, "");
        return;
    }
    panic!("no free port for the late server in 5 tries");
}

#[test]
fn a_signal_ends_the_waiting_with_130() {
    let addr = refused_addr().to_string();
    let mut client = Proc::spawn(command(CLIENT).args(["--wait", "60", &addr]));
    wait_for_handler(client.pid(), 2);
    thread::sleep(Duration::from_millis(300));
    client.interrupt();
    let out = client.finish(STEP);
    out.assert_code(130);
    let line = out.stderr.trim_end();
    assert!(
        line.starts_with(&format!("error: {addr} not ready when interrupted after "))
            && line.ends_with(" s: connection refused"),
        "{out:?}"
    );
    assert!(out.took < Duration::from_secs(10), "{out:?}");
}
