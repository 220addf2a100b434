//! Helpers shared by the integration tests: the binary, the real Redis, bounded waits.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// The Redis the tests use: `$REDIS_URL`, else the default.
pub fn url() -> String {
    std::env::var("REDIS_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379/0".to_owned())
}

/// A connection to the real Redis; panics with a clear message when it is not there.
pub fn redis() -> redis::Connection {
    let url = url();
    let client = redis::Client::open(url.as_str()).expect("REDIS_URL is not a Redis URL");
    let mut conn = client
        .get_connection_with_timeout(Duration::from_secs(5))
        .unwrap_or_else(|e| {
            panic!(
                "these tests need a real Redis at {url} ({e}); start it with `scripts/services up` \
                 or point REDIS_URL at one"
            )
        });
    let _: String = redis::cmd("PING")
        .query(&mut conn)
        .expect("Redis does not answer PING");
    conn
}

/// The same server, database `db`.
pub fn redis_db(db: i64) -> redis::Connection {
    let mut conn = redis();
    let _: () = redis::cmd("SELECT")
        .arg(db)
        .query(&mut conn)
        .expect("SELECT");
    conn
}

/// A name no other test (or test run) uses.
pub fn unique(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("test:{what}:{}:{nanos:x}", std::process::id())
}

/// Keys matching `pattern` (SCAN, to the end).
pub fn keys_matching(conn: &mut redis::Connection, pattern: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query(conn)
            .expect("SCAN");
        found.extend(keys);
        if next == 0 {
            return found;
        }
        cursor = next;
    }
}

/// `redis-ops` with `--url` set to the test Redis.
pub fn cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redis-ops"));
    c.env_remove("RUST_LOG").arg("--url").arg(url());
    c
}

/// `redis-ops` with no `--url` (the caller gives one).
pub fn bare() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redis-ops"));
    c.env_remove("RUST_LOG").env_remove("REDIS_URL");
    c
}

/// Runs to completion (killed after `limit`), feeding `stdin`.
pub fn run_with(mut command: Command, stdin: &[u8], limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start redis-ops");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = wait_output(child, limit);
    let _ = feeder.join();
    out
}

/// Runs `args` to completion (60 s at most), no stdin.
pub fn run(args: &[&str]) -> Output {
    let mut c = cmd();
    c.args(args);
    run_with(c, b"", Duration::from_mins(1))
}

/// Waits for the child, killing it after `limit` (and then failing the test).
pub fn wait_output(mut child: Child, limit: Duration) -> Output {
    // A stream the caller already took (to read it line by line) counts as empty here.
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(mut s) = stdout {
            let _ = s.read_to_end(&mut v);
        }
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(mut s) = stderr {
            let _ = s.read_to_end(&mut v);
        }
        v
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("redis-ops still running after {limit:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

/// Lines of a running child's stream, as they come.
pub fn lines_of(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits (10 s at most) for a line satisfying `want`; returns it and every line before it.
pub fn wait_for_line(lines: &Receiver<String>, want: impl Fn(&str) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                let done = want(&line);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(e) => panic!(
                "the expected line never came ({e}); saw:\n{}",
                seen.join("\n")
            ),
        }
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Sends a signal to a process.
pub fn signal(pid: u32, name: &str) {
    let ok = Command::new("kill")
        .args(["-s", name, &pid.to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill -s {name} {pid} failed");
}

/// A TCP port on 127.0.0.1 where nothing listens (bound, then closed).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
