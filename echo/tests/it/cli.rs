//! The binaries as a user runs them: what they print, and their exit codes.

use std::time::{Duration, Instant};

use test_support::{Signal, silent_listener};

use crate::support::{BENCH, CLIENT, SERVER, ServerProcess, fake_server, run};

#[test]
fn the_client_against_the_server_prints_server_said() {
    let server = ServerProcess::start(&[]);
    assert_eq!(server.first_line, format!("listening on {}", server.addr));
    let addr = server.addr.to_string();

    let out = run(CLIENT, &[&addr], b"");
    assert_eq!(out.stdout_text(), "Server said: hello alex!\n");
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);

    let out = run(CLIENT, &[&addr, "--message", "bonjour, 世界"], b"");
    assert_eq!(out.stdout_text(), "Server said: bonjour, 世界\n");
    assert_eq!(out.status.code(), Some(0));

    // SIGTERM: exit 0 and a one-line summary on stderr.
    let stopped = server.stop(Signal::Term);
    let (code, err) = (stopped.code(), stopped.stderr);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        err.trim_end(),
        format!(
            "echo-server: stopped; 2 connections served, {} bytes echoed",
            11 + "bonjour, 世界".len()
        )
    );
}

#[test]
fn stdin_is_streamed_like_nc() {
    // The multi-threaded runtime serves the same bytes.
    let server = ServerProcess::start(&["--threads", "2"]);
    // A bare port means 127.0.0.1.
    let port = server.addr.port().to_string();
    let out = run(CLIENT, &["--stdin", &port], b"a\nb\n");
    assert_eq!(out.stdout_text(), "a\nb\n");
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);

    // Binary data, larger than any buffer, comes back whole.
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let out = run(CLIENT, &["--stdin", &port], &data);
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    assert!(out.stdout == data, "the streamed echo differs");

    // Empty stdin: nothing sent, nothing printed, success.
    let out = run(CLIENT, &["--stdin", &port], b"");
    assert_eq!(out.stdout, b"");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn udp_server_and_client() {
    let server = ServerProcess::start(&["--udp"]);
    assert_eq!(
        server.first_line,
        format!("listening on {} (udp)", server.addr)
    );
    let addr = server.addr.to_string();
    let out = run(CLIENT, &["--udp", &addr], b"");
    assert_eq!(out.stdout_text(), "Server said: hello alex!\n");
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);

    let out = run(CLIENT, &["--udp", "--stdin", &addr], b"one\ntwo\n");
    assert_eq!(out.stdout_text(), "one\ntwo\n");
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);

    let stopped = server.stop(Signal::Int);
    let (code, err) = (stopped.code(), stopped.stderr);
    assert_eq!(code, Some(0));
    assert_eq!(
        err.trim_end(),
        "echo-server: stopped; 3 datagrams echoed, 19 bytes"
    );
}

#[test]
fn refused_connection_prints_goodbye_and_exits_1() {
    let port = test_support::refused_addr().port().to_string();
    let out = run(CLIENT, &[&port], b"");
    assert_eq!(out.stdout_text(), "Connection failed - goodbye!\n");
    assert_eq!(out.status.code(), Some(1));
    let err = out.stderr.clone();
    assert!(
        err.starts_with(&format!("error: cannot connect to 127.0.0.1:{port}: ")),
        "{err}"
    );
    assert!(err.to_lowercase().contains("refused"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    // UDP: the refusal arrives as an ICMP error.
    let out = run(CLIENT, &["--udp", "--timeout", "5", &port], b"");
    assert_eq!(out.stdout_text(), "Connection failed - goodbye!\n");
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
}

#[test]
fn no_echo_within_the_timeout_exits_1() {
    // Listening (the kernel completes the handshake) but never answering.
    let (_silent, addr) = silent_listener();
    let addr = addr.to_string();
    let start = Instant::now();
    let out = run(CLIENT, &[&addr, "--timeout", "0.5"], b"");
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout_text(), "");
    assert_eq!(
        out.stderr.trim_end(),
        format!("error: no complete echo from {addr} within 500.0 ms (0 of 11 bytes came back)")
    );
}

/// `echo-client` against a fake server that reads the 11 bytes of `hello alex!` and answers
/// `reply(them)`.
fn client_against(reply: fn(Vec<u8>) -> Vec<u8>) -> (std::net::SocketAddr, test_support::Run) {
    let (addr, handle) = fake_server(1, 11, reply);
    let out = run(CLIENT, &[&addr.to_string()], b"");
    handle.join().unwrap();
    (addr, out)
}

#[test]
fn a_different_echo_exits_1() {
    let (addr, out) = client_against(|b| b.to_ascii_uppercase());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout_text(), "");
    assert_eq!(
        out.stderr.trim_end(),
        format!("error: the echo from {addr} differs from what was sent, first at byte 0")
    );
}

#[test]
fn a_server_that_hangs_up_early_exits_1() {
    let (addr, out) = client_against(|b| b[..5].to_vec());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        out.stderr.trim_end(),
        format!("error: {addr} closed the connection after echoing 5 of 11 bytes")
    );
}

#[test]
fn usage_errors_exit_2() {
    let cases: &[(&str, &[&str], &str)] = &[
        (CLIENT, &["--timeout", "abc"], "--timeout"),
        (CLIENT, &["--timeout", "0"], "--timeout"),
        (CLIENT, &["localhost:nine"], "Ports must be integers."),
        (CLIENT, &["70000"], "between 1 and 65535"),
        (CLIENT, &["--stdin", "--message", "x"], "not both"),
        (CLIENT, &["--bogus"], "--bogus"),
        (SERVER, &["--port", "70000"], "--port"),
        (SERVER, &["--max-connections", "0"], "--max-connections"),
        (SERVER, &["--grace", "-1"], "--grace"),
        (SERVER, &["--iface", ""], "the host is empty"),
        (BENCH, &["--connections", "0"], "--connections"),
        (BENCH, &["--size", "0"], "--size"),
        (BENCH, &["--duration", "0"], "--duration"),
    ];
    for (bin, args, needle) in cases {
        let out = run(bin, args, b"");
        let err = out.stderr.clone();
        assert_eq!(out.status.code(), Some(2), "{bin} {args:?}: {err}");
        assert!(err.starts_with("error"), "{bin} {args:?}: {err}");
        assert!(err.contains(needle), "{bin} {args:?}: {err}");
        assert_eq!(out.stdout_text(), "", "{bin} {args:?}");
    }
    for bin in [SERVER, CLIENT, BENCH] {
        let out = run(bin, &["--help"], b"");
        assert_eq!(out.status.code(), Some(0));
        assert!(
            out.stdout_text().starts_with("Usage: "),
            "{}",
            out.stdout_text()
        );
    }
}

#[test]
fn a_port_in_use_exits_1() {
    let (_taken, addr) = silent_listener();
    let port = addr.port().to_string();
    let out = run(SERVER, &["--port", &port], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout_text(), "");
    let err = out.stderr.clone();
    assert!(
        err.starts_with(&format!("error: cannot listen on 127.0.0.1:{port}: ")),
        "{err}"
    );
}

#[test]
fn the_bench_reports_in_json_and_text() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr.to_string();
    let out = run(
        BENCH,
        &[
            &addr,
            "--connections",
            "3",
            "--size",
            "64",
            "--duration",
            "0.3",
            "--json",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    // Not a terminal: no progress on stderr.
    assert_eq!(out.stderr, "");
    let text = out.stdout_text();
    assert_eq!(text.lines().count(), 1, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["connections"], 3);
    assert_eq!(v["size"], 64);
    assert_eq!(v["errors"], 0);
    assert!(v["messages"].as_u64().unwrap() > 0);
    assert!(v["messages_per_sec"].as_f64().unwrap() > 0.0);
    assert!(v["latency_us"]["p50"].as_f64().unwrap() > 0.0);
    assert!(v["latency_us"]["p99_9"].as_f64().unwrap() <= v["latency_us"]["max"].as_f64().unwrap());

    let out = run(
        BENCH,
        &[&addr, "--connections", "2", "--duration", "0.2"],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    let text = out.stdout_text();
    for start in [
        "echo-bench: ",
        "messages/s ",
        "MB/s ",
        "latency us ",
        "messages ",
        "errors       0",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(start)),
            "{start:?} in {text}"
        );
    }
}

#[test]
fn the_bench_catches_a_wrong_echo() {
    // A server that flips the last byte of the first message.
    let (addr, handle) = fake_server(1, 32, |mut b| {
        *b.last_mut().unwrap() ^= 1;
        b
    });
    let out = run(
        BENCH,
        &[
            &addr.to_string(),
            "--connections",
            "1",
            "--size",
            "32",
            "--duration",
            "0.3",
        ],
        b"",
    );
    handle.join().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stdout_text().contains("errors       1"),
        "{}",
        out.stdout_text()
    );
    assert_eq!(
        out.stderr.trim_end(),
        "error: 1 error(s) during the benchmark, first: message 0 on connection 0 came back different at byte 31"
    );
}
