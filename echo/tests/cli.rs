//! The binaries as a user runs them: what they print, and their exit codes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const SERVER: &str = env!("CARGO_BIN_EXE_echo-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_echo-client");
const BENCH: &str = env!("CARGO_BIN_EXE_echo-bench");

/// A running echo-server binary, killed if the test ends without stopping it.
struct ServerProcess {
    child: Option<Child>,
    addr: SocketAddr,
    first_line: String,
    _stdout: ChildStdout,
}

impl ServerProcess {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(SERVER)
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send((line, reader.into_inner()));
        });
        let Ok((line, stdout)) = rx.recv_timeout(Duration::from_secs(20)) else {
            let _ = child.kill();
            panic!("echo-server printed no first line within 20 s");
        };
        let line = line.trim_end().to_owned();
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .parse()
            .unwrap();
        Self {
            child: Some(child),
            addr,
            first_line: line,
            _stdout: stdout,
        }
    }

    /// Sends a signal (by name: TERM, INT), waits for the exit, returns (code, stderr).
    fn signal(&mut self, sig: &str) -> (Option<i32>, String) {
        let mut child = self.child.take().unwrap();
        let status = Command::new("kill")
            .args(["-s", sig, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = wait_for(&mut child, Duration::from_secs(20));
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        (status, stderr)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits for a child at most `limit`, killing it after that (then the test fails).
fn wait_for(child: &mut Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the process did not exit within {limit:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Runs a binary with `stdin` fed in, within 30 s.
fn run(bin: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let (tx, rx) = mpsc::channel();
    let pid = child.id();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("{bin} {args:?} did not finish within 30 s")
        })
        .unwrap();
    feeder.join().unwrap();
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A fake server on a thread: for each of `connections` clients, reads `len` bytes and
/// answers with `reply(bytes)`.
fn fake_server(
    connections: usize,
    len: usize,
    reply: fn(Vec<u8>) -> Vec<u8>,
) -> (SocketAddr, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        for _ in 0..connections {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut buf = vec![0u8; len];
            if s.read_exact(&mut buf).is_ok() {
                let _ = s.write_all(&reply(buf));
            }
        }
    });
    (addr, handle)
}

#[test]
fn the_client_against_the_server_prints_server_said() {
    let mut server = ServerProcess::start(&[]);
    assert_eq!(server.first_line, format!("listening on {}", server.addr));
    let addr = server.addr.to_string();

    let out = run(CLIENT, &[&addr], b"");
    assert_eq!(stdout(&out), "Server said: hello alex!\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = run(CLIENT, &[&addr, "--message", "bonjour, 世界"], b"");
    assert_eq!(stdout(&out), "Server said: bonjour, 世界\n");
    assert_eq!(out.status.code(), Some(0));

    // SIGTERM: exit 0 and a one-line summary on stderr.
    let (code, err) = server.signal("TERM");
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
    assert_eq!(stdout(&out), "a\nb\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Binary data, larger than any buffer, comes back whole.
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let out = run(CLIENT, &["--stdin", &port], &data);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout == data, "the streamed echo differs");

    // Empty stdin: nothing sent, nothing printed, success.
    let out = run(CLIENT, &["--stdin", &port], b"");
    assert_eq!(out.stdout, b"");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn udp_server_and_client() {
    let mut server = ServerProcess::start(&["--udp"]);
    assert_eq!(
        server.first_line,
        format!("listening on {} (udp)", server.addr)
    );
    let addr = server.addr.to_string();
    let out = run(CLIENT, &["--udp", &addr], b"");
    assert_eq!(stdout(&out), "Server said: hello alex!\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = run(CLIENT, &["--udp", "--stdin", &addr], b"one\ntwo\n");
    assert_eq!(stdout(&out), "one\ntwo\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let (code, err) = server.signal("INT");
    assert_eq!(code, Some(0));
    assert_eq!(
        err.trim_end(),
        "echo-server: stopped; 3 datagrams echoed, 19 bytes"
    );
}

#[test]
fn refused_connection_prints_goodbye_and_exits_1() {
    let port = common::testing::refused_addr().port().to_string();
    let out = run(CLIENT, &[&port], b"");
    assert_eq!(stdout(&out), "Connection failed - goodbye!\n");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("error: cannot connect to 127.0.0.1:{port}: ")),
        "{err}"
    );
    assert!(err.to_lowercase().contains("refused"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    // UDP: the refusal arrives as an ICMP error.
    let out = run(CLIENT, &["--udp", "--timeout", "5", &port], b"");
    assert_eq!(stdout(&out), "Connection failed - goodbye!\n");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn no_echo_within_the_timeout_exits_1() {
    // Listening (the kernel completes the handshake) but never answering.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let start = Instant::now();
    let out = run(CLIENT, &[&addr, "--timeout", "0.5"], b"");
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out).trim_end(),
        format!("error: no complete echo from {addr} within 0.5s (0 of 11 bytes came back)")
    );
}

#[test]
fn a_different_echo_exits_1() {
    let (addr, handle) = fake_server(1, 11, |b| b.to_ascii_uppercase());
    let out = run(CLIENT, &[&addr.to_string()], b"");
    handle.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out).trim_end(),
        format!("error: the echo from {addr} differs from what was sent, first at byte 0")
    );
}

#[test]
fn a_server_that_hangs_up_early_exits_1() {
    let (addr, handle) = fake_server(1, 11, |b| b[..5].to_vec());
    let out = run(CLIENT, &[&addr.to_string()], b"");
    handle.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim_end(),
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
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{bin} {args:?}: {err}");
        assert!(err.starts_with("error"), "{bin} {args:?}: {err}");
        assert!(err.contains(needle), "{bin} {args:?}: {err}");
        assert_eq!(stdout(&out), "", "{bin} {args:?}");
    }
    for bin in [SERVER, CLIENT, BENCH] {
        let out = run(bin, &["--help"], b"");
        assert_eq!(out.status.code(), Some(0));
        assert!(stdout(&out).starts_with("Usage: "), "{}", stdout(&out));
    }
}

#[test]
fn a_port_in_use_exits_1() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = run(SERVER, &["--port", &port], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
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
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Not a terminal: no progress on stderr.
    assert_eq!(stderr(&out), "");
    let text = stdout(&out);
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
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
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
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("errors       1"), "{}", stdout(&out));
    assert_eq!(
        stderr(&out).trim_end(),
        "error: 1 error(s) during the benchmark, first: message 0 on connection 0 came back different at byte 31"
    );
}
