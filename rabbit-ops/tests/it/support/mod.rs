//! Test helpers: the real `rabbit-ops` binary against the real broker, with names unique to
//! each test, processes that are always reaped, and queues/exchanges deleted at the end.

#![allow(dead_code)]

pub mod node;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use amiquip::{Connection, QueueDeleteOptions};
use rabbit_ops::Broker;

/// How long any single step may take before the test fails.
pub const STEP: Duration = Duration::from_secs(15);

/// The broker the tests use: `$AMQP_URL`, else the default.
pub fn amqp_url() -> String {
    std::env::var("AMQP_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| rabbit_ops::url::DEFAULT_URL.to_owned())
}

/// A connection to the test broker; fails the test loudly when there is none.
pub fn connect() -> Connection {
    let url = amqp_url();
    let broker = Broker::new(&url, Duration::from_secs(5)).expect("AMQP_URL is not a valid URL");
    match broker.connect() {
        Ok(c) => c,
        Err(e) => panic!(
            "these tests need a running RabbitMQ ({e}); start one with `scripts/services up` \
             or point AMQP_URL at one"
        ),
    }
}

/// A name no other test (or test run) uses.
pub fn unique(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "test-{what}-{}-{nanos:x}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Deletes the queues and exchanges it names when the test ends, pass or fail.
#[derive(Default)]
pub struct Cleanup {
    queues: Vec<String>,
    exchanges: Vec<String>,
}

impl Cleanup {
    pub fn new() -> Self {
        // Fail loudly up front when there is no broker.
        drop(connect());
        Self::default()
    }

    /// A unique queue name, deleted at the end.
    pub fn queue(&mut self, what: &str) -> String {
        let name = unique(what);
        self.queues.push(name.clone());
        name
    }

    /// A unique exchange name, deleted at the end.
    pub fn exchange(&mut self, what: &str) -> String {
        let name = unique(what);
        self.exchanges.push(name.clone());
        name
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Ok(mut conn) =
            Broker::new(&amqp_url(), Duration::from_secs(5)).and_then(|b| b.connect())
        else {
            return;
        };
        // One channel per deletion: an error closes the channel it happens on.
        for q in &self.queues {
            if let Ok(ch) = conn.open_channel(None) {
                let _ = ch.queue_delete(q.as_str(), QueueDeleteOptions::default());
                let _ = ch.close();
            }
        }
        for x in &self.exchanges {
            if let Ok(ch) = conn.open_channel(None) {
                let _ = ch.exchange_delete(x.as_str(), false);
                let _ = ch.close();
            }
        }
        let _ = conn.close();
    }
}

/// The binary with `--url` for the test broker, then `args`.
pub fn cmd(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rabbit-ops"));
    c.arg("--url").arg(amqp_url()).args(args);
    c.env_remove("RUST_LOG");
    c
}

/// What a finished run printed.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

/// Runs a command to the end (killed after [`STEP`]).
pub fn run(mut c: Command) -> Run {
    Proc::spawn(&mut c).finish(STEP)
}

/// Runs `rabbit-ops --url <test broker> args...` to the end.
pub fn rabbit(args: &[&str]) -> Run {
    run(cmd(args))
}

/// A running process whose stdout lines arrive on a channel.
pub struct Proc {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Option<JoinHandle<String>>,
    started: Instant,
}

impl Proc {
    pub fn spawn(c: &mut Command) -> Self {
        Self::spawn_from(c.stdin(Stdio::null()))
    }

    /// Starts it with a pipe for its stdin (dropping the pipe closes stdin).
    pub fn spawn_with_stdin(c: &mut Command) -> (Self, std::process::ChildStdin) {
        let mut p = Self::spawn_from(c.stdin(Stdio::piped()));
        let stdin = p.child.stdin.take().expect("stdin");
        (p, stdin)
    }

    fn spawn_from(c: &mut Command) -> Self {
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start rabbit-ops");
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
            stderr: Some(stderr),
            started: Instant::now(),
        }
    }

    /// Starts `rabbit-ops --url <test broker> args...`.
    pub fn start(args: &[&str]) -> Self {
        Self::spawn(&mut cmd(args))
    }

    /// Starts a consumer and waits for its first line (its Waiting/Awaiting line), which it
    /// prints once its queue is bound and consumed from.
    pub fn consumer(args: &[&str], ready: &str) -> Self {
        let mut p = Self::start(args);
        p.expect_line(ready);
        p
    }

    /// The next stdout line, or `None` at end of output or after `within`.
    pub fn next_line(&mut self, within: Duration) -> Option<String> {
        match self.lines.recv_timeout(within) {
            Ok(l) => {
                self.seen.push(l.clone());
                Some(l)
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Fails the test unless the next line is `expected`.
    pub fn expect_line(&mut self, expected: &str) {
        let Some(line) = self.next_line(STEP) else {
            let _ = self.child.kill();
            let err = self.stderr.take().map(|h| h.join().unwrap_or_default());
            panic!(
                "no line {expected:?} within {STEP:?}; stdout so far {:?}; stderr {err:?}",
                self.seen
            );
        };
        assert_eq!(line, expected, "unexpected line (so far: {:?})", self.seen);
    }

    /// Every stdout line read so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// Kills it with SIGKILL (no chance to clean up) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGINT (Ctrl-C).
    pub fn interrupt(&self) {
        let ok = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "cannot send SIGINT");
    }

    /// Waits for the exit (killing it after `within`) and collects all output.
    pub fn finish(mut self, within: Duration) -> Run {
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let err = self.stderr.take().map(|h| h.join().unwrap_or_default());
                panic!(
                    "still running after {within:?}: killed; stdout {:?}, stderr {err:?}",
                    self.seen
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let took = self.started.elapsed();
        while self.next_line(Duration::from_secs(5)).is_some() {}
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        Run {
            status,
            stdout: self.seen.iter().flat_map(|l| [l.as_str(), "\n"]).collect(),
            stderr,
            took,
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What a `worker`'s output says: the tasks it finished (` [x] Received T` then ` [x] Done`), in
/// order, and the one it had received but not finished, if any.
pub fn worker_tasks(lines: &[String]) -> (Vec<String>, Option<String>) {
    let mut done = Vec::new();
    let mut current = None;
    for line in lines {
        if let Some(task) = line.strip_prefix(" [x] Received ") {
            current = Some(task.to_owned());
        } else if line == " [x] Done" {
            done.extend(current.take());
        }
    }
    (done, current)
}

/// Counts, over all `done` lists, how many tasks were done more than once (extra runs), and
/// which of `expected` were never done.
pub fn tally<'a>(expected: &'a [String], done: &[&[String]]) -> (usize, Vec<&'a String>) {
    let mut runs = std::collections::HashMap::<&str, usize>::new();
    for list in done {
        for t in *list {
            *runs.entry(t.as_str()).or_default() += 1;
        }
    }
    let duplicates = runs.values().map(|n| n.saturating_sub(1)).sum();
    let missing = expected
        .iter()
        .filter(|t| !runs.contains_key(t.as_str()))
        .collect();
    (duplicates, missing)
}
