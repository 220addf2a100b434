//! Helpers shared by the integration tests: the binary, the real Redis, bounded waits.

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
            let (out, err) = (out_reader.join().unwrap(), err_reader.join().unwrap());
            let tail = |b: &[u8]| {
                let t = String::from_utf8_lossy(b).into_owned();
                t[t.len().saturating_sub(3000)..].to_owned()
            };
            panic!(
                "redis-ops still running after {limit:?}: killed\nstdout: {}\nstderr: {}",
                tail(&out),
                tail(&err)
            );
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

/// A TCP port on 127.0.0.1 where nothing listens, reserved for the test (see common::testing).
pub fn closed_port() -> u16 {
    common::testing::refused_addr().port()
}

/// A free TCP port on 127.0.0.1 (bound to port 0, then released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A private redis-server child on its own port and temp dir (never the shared one), killed
/// when dropped.
pub struct PrivateRedis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    extra: Vec<String>,
}

impl PrivateRedis {
    /// Starts one and waits (10 s at most) until it answers PING.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Like [`PrivateRedis::start`], with more redis-server arguments.
    pub fn start_with(extra: &[&str]) -> Self {
        let mut r = Self {
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            child: None,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
        };
        r.spawn();
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--dir", self.dir.path().to_str().unwrap()])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start redis-server (apt-get install redis-server)");
        self.child = Some(child);
        self.wait_ready();
    }

    /// Waits until PING answers (10 s at most).
    pub fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut c) = self.try_conn()
                && redis::cmd("PING").query::<String>(&mut c).is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "private redis-server on port {} never answered",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn try_conn(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(self.url())?.get_connection_with_timeout(Duration::from_secs(1))
    }

    /// A connection to it.
    pub fn conn(&self) -> redis::Connection {
        self.try_conn().expect("private redis-server")
    }

    /// SIGKILL, and wait for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kill it, then start it again on the same port after `down` (empty: no persistence).
    pub fn restart(&mut self, down: Duration) {
        self.kill();
        std::thread::sleep(down);
        self.spawn();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `cmd` with its stdout and stderr read line by line as they come.
pub fn spawn_lines(mut command: Command) -> (Child, Receiver<String>, Receiver<String>) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start redis-ops");
    let out = lines_of(child.stdout.take().unwrap());
    let err = lines_of(child.stderr.take().unwrap());
    (child, out, err)
}

/// Waits until the private server has processed at least `n` commands (10 s at most).
pub fn wait_commands(r: &PrivateRedis, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info: String = redis::cmd("INFO")
            .arg("stats")
            .query(&mut r.conn())
            .unwrap();
        let done: u64 = info
            .lines()
            .find_map(|l| l.strip_prefix("total_commands_processed:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if done >= n {
            return;
        }
        assert!(Instant::now() < deadline, "only {done} commands after 10 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}
