//! What only rabbit-ops' tests need, over test-support: the binary pointed at the shared broker,
//! queues and exchanges deleted at the end, and the reading of workers' output.

use std::process::Command;
use std::time::Duration;

use amiquip::{Connection, QueueDeleteOptions};
use rabbit_ops::Broker;
use test_support::{Proc, Run, STEP, command, require_rabbit, unique};

/// A connection to the shared broker; fails the test loudly when there is none.
pub fn connect() -> Connection {
    let url = require_rabbit();
    let broker = Broker::new(&url, Duration::from_secs(5)).expect("AMQP_URL is not a valid URL");
    broker
        .connect()
        .unwrap_or_else(|e| panic!("the shared RabbitMQ refuses connections: {e}"))
}

/// Deletes the queues and exchanges it names when the test ends, pass or fail.
#[derive(Default)]
pub struct Cleanup {
    queues: Vec<String>,
    exchanges: Vec<String>,
}

impl Cleanup {
    /// Fails loudly up front when there is no broker.
    pub fn new() -> Self {
        drop(connect());
        Self::default()
    }

    /// A unique queue name, deleted at the end.
    pub fn queue(&mut self, what: &str) -> String {
        let name = unique(&format!("test-{what}"));
        self.queues.push(name.clone());
        name
    }

    /// A unique exchange name, deleted at the end.
    pub fn exchange(&mut self, what: &str) -> String {
        let name = unique(&format!("test-{what}"));
        self.exchanges.push(name.clone());
        name
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Ok(mut conn) = Broker::new(&test_support::amqp_url(), Duration::from_secs(5))
            .and_then(|b| b.connect())
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

/// `rabbit-ops` without `$AMQP_URL` (nor `$RUST_LOG`) from the test's environment.
pub fn bin() -> Command {
    let mut c = command(env!("CARGO_BIN_EXE_rabbit-ops"));
    c.env_remove("AMQP_URL");
    c
}

/// `rabbit-ops` with the broker `url` in `$AMQP_URL` (`from_env`) or `--url`.
pub fn bin_at(url: &str, from_env: bool) -> Command {
    let mut c = bin();
    if from_env {
        c.env("AMQP_URL", url);
    } else {
        c.arg("--url").arg(url);
    }
    c
}

/// `rabbit-ops --url <url> args...`
pub fn at(url: &str, args: &[&str]) -> Command {
    let mut c = bin();
    c.arg("--url").arg(url).args(args);
    c
}

/// The binary with `--url` for the shared broker, then `args`.
pub fn cmd(args: &[&str]) -> Command {
    at(&test_support::amqp_url(), args)
}

/// Runs a command to the end (stdin empty; killed after [`STEP`]).
pub fn run(mut c: Command) -> Run {
    test_support::run(&mut c, b"", STEP)
}

/// Runs `rabbit-ops --url <shared broker> args...` to the end.
pub fn rabbit(args: &[&str]) -> Run {
    run(cmd(args))
}

/// Starts `rabbit-ops --url <shared broker> args...`.
pub fn start(args: &[&str]) -> Proc {
    Proc::spawn(&mut cmd(args))
}

/// Starts a consumer and waits for its first line (its Waiting/Awaiting line), which it prints
/// once its queue is bound and consumed from.
pub fn consumer(args: &[&str], ready: &str) -> Proc {
    let mut p = start(args);
    p.expect_line(ready);
    p
}

/// The shared broker's URL with other credentials (`user:password`) or vhost.
pub fn with(user_pass: &str, vhost: &str) -> String {
    let url = rabbit_ops::url::AmqpUrl::parse(&require_rabbit()).expect("AMQP_URL is valid");
    let host = if url.host.contains(':') {
        format!("[{}]", url.host)
    } else {
        url.host.clone()
    };
    format!("amqp://{user_pass}@{host}:{}/{vhost}", url.port)
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

/// Waits for `p` to end (within [`STEP`]) and checks how: its exit code, its whole stderr, and
/// that it took less than `within` from its start.
pub fn ended(p: Proc, code: i32, stderr: &str, within: Duration) -> Run {
    let r = p.finish(STEP);
    assert_eq!(r.code(), Some(code), "{r:?}");
    assert_eq!(r.stderr, stderr, "{r:?}");
    assert!(r.took < within, "took {:?}: {r:?}", r.took);
    r
}

/// What a command run under `/usr/bin/time -f maxrss_kb=%M` printed on stderr (without time's
/// own lines), and its peak memory in KiB.
pub fn with_maxrss(r: &Run) -> (Vec<&str>, u64) {
    let mut lines: Vec<&str> = r
        .stderr_lines()
        .into_iter()
        .filter(|l| !l.starts_with("Command exited"))
        .collect();
    let kb = lines
        .pop()
        .and_then(|l| l.strip_prefix("maxrss_kb="))
        .and_then(|k| k.parse().ok())
        .unwrap_or_else(|| panic!("no maxrss_kb line: {r:?}"));
    (lines, kb)
}

/// The bodies of the `Got message: <body> with offset: <n>` lines of a stream consumer.
pub fn got_bodies(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("Got message: "))
        .map(|l| {
            l.split(" with offset: ")
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// The name of the queue `rabbit-ops -v bench` said it declared (`bench queue '<name>'`).
pub fn bench_queue(p: &mut Proc) -> String {
    let line = p.wait_for_err_line(|l| l.contains("bench queue '"), STEP);
    line.last()
        .and_then(|l| l.split('\'').nth(1))
        .expect("the queue's name")
        .to_owned()
}
