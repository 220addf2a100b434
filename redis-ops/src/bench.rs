//! `redis-ops bench`: `redis-benchmark`'s tests, flags and `-q` lines, from Rust.
//!
//! Against one server it works the way `redis-benchmark` does: `-c` connections on one thread
//! (the caller runs it on a current-thread runtime), each sending `-P` pre-encoded commands at a
//! time straight to its socket and reading back exactly as many replies with the small strict
//! parser of [`crate::resp`] (each reply's type is checked: SET must answer `+OK`, INCR an
//! integer...; an error reply is counted). No redis-crate machinery per command: that is what
//! made the difference (see docs/redis.md, "bench").
//!
//! With `--cluster` the same tests go through the redis crate's async cluster client, which
//! routes each command to the master of its key's slot.
//!
//! The server going away: the batch in flight when a connection breaks (or gets no answer
//! within the timeout) is counted in `errors`, the connection is made again with a backoff of
//! 50 ms doubling to 1 s, and the run goes on. A client that cannot reconnect for `retry_for`
//! gives up; the requests never sent are reported and the command fails.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use redis::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::connect::{Conn, Redis};
use crate::error::{Error, describe};
use crate::resp::{self, Kind};

/// One of `redis-benchmark`'s tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Test {
    /// `SET key value`.
    Set,
    /// `GET key`.
    Get,
    /// `INCR counter`.
    Incr,
    /// `LPUSH mylist value`.
    Lpush,
    /// `RPOP mylist`.
    Rpop,
    /// `SADD myset element`.
    Sadd,
    /// `HSET myhash element value`.
    Hset,
    /// `ZADD myzset 0 element`.
    Zadd,
}

impl Test {
    /// Every test, in the order `redis-benchmark` runs them.
    pub const ALL: [Self; 8] = [
        Self::Set,
        Self::Get,
        Self::Incr,
        Self::Lpush,
        Self::Rpop,
        Self::Sadd,
        Self::Hset,
        Self::Zadd,
    ];

    /// The name on the command line (`-t`) and in `--json`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Set => "set",
            Self::Get => "get",
            Self::Incr => "incr",
            Self::Lpush => "lpush",
            Self::Rpop => "rpop",
            Self::Sadd => "sadd",
            Self::Hset => "hset",
            Self::Zadd => "zadd",
        }
    }

    /// `-t set,get`: the tests named, run in `redis-benchmark`'s order whatever the order given.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, Error> {
        let mut tests = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let lower = name.to_ascii_lowercase();
            let test = Self::ALL
                .into_iter()
                .find(|t| t.name() == lower)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "bench: unknown test '{name}' (choose from set,get,incr,lpush,rpop,sadd,hset,zadd)"
                    ))
                })?;
            tests.push(test);
        }
        if tests.is_empty() {
            return Err(Error::Usage("bench: -t names no test".into()));
        }
        tests.sort();
        tests.dedup();
        Ok(tests)
    }

    /// The key this test writes (`key`, `counter`, `mylist`... as `redis-benchmark` names them).
    fn key_name(self) -> &'static str {
        match self {
            Self::Set | Self::Get => "key",
            Self::Incr => "counter",
            Self::Lpush | Self::Rpop => "mylist",
            Self::Sadd => "myset",
            Self::Hset => "myhash",
            Self::Zadd => "myzset",
        }
    }

    /// The command's arguments, for `key` and a value of the `-d` size.
    pub fn args(self, key: &str, value: &[u8]) -> Vec<Vec<u8>> {
        let k = key.as_bytes().to_vec();
        let element = b"element:__rand_int__".to_vec();
        match self {
            Self::Set => vec![b"SET".to_vec(), k, value.to_vec()],
            Self::Get => vec![b"GET".to_vec(), k],
            Self::Incr => vec![b"INCR".to_vec(), k],
            Self::Lpush => vec![b"LPUSH".to_vec(), k, value.to_vec()],
            Self::Rpop => vec![b"RPOP".to_vec(), k],
            Self::Sadd => vec![b"SADD".to_vec(), k, element],
            Self::Hset => vec![b"HSET".to_vec(), k, element, value.to_vec()],
            Self::Zadd => vec![b"ZADD".to_vec(), k, b"0".to_vec(), element],
        }
    }

    /// Whether `reply` (a whole RESP reply) is what this command answers when it works.
    pub fn accepts(self, kind: Kind, reply: &[u8]) -> bool {
        match self {
            Self::Set => reply == b"+OK\r\n",
            Self::Get | Self::Rpop => matches!(kind, Kind::Bulk | Kind::Nil),
            Self::Incr | Self::Lpush | Self::Sadd | Self::Hset | Self::Zadd => {
                kind == Kind::Integer
            }
        }
    }

    /// The same check on a reply the redis crate parsed (`--cluster`).
    fn accepts_value(self, v: &Value) -> bool {
        match self {
            Self::Set => {
                matches!(v, Value::Okay) || matches!(v, Value::SimpleString(s) if s == "OK")
            }
            Self::Get | Self::Rpop => matches!(v, Value::BulkString(_) | Value::Nil),
            _ => matches!(v, Value::Int(_)),
        }
    }
}

/// The flags of `bench`, as `redis-benchmark` spells them.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// `-c`: parallel connections.
    pub clients: usize,
    /// `-n`: requests per test.
    pub requests: u64,
    /// `-P`: commands sent at once by each connection.
    pub pipeline: usize,
    /// `-d`: bytes in SET/GET values.
    pub data_size: usize,
    /// `-t`: the tests.
    pub tests: Vec<Test>,
    /// How long a connection keeps trying to come back before giving up.
    pub retry_for: Duration,
}

/// What one test measured.
#[derive(Debug, Clone)]
pub struct TestReport {
    /// The test.
    pub test: Test,
    /// Requests answered as expected.
    pub ok: u64,
    /// Requests that failed: an error reply, or no reply (connection lost, no answer in time).
    pub errors: u64,
    /// Requests never sent (a connection gave up reconnecting).
    pub unsent: u64,
    /// Times a connection was made again after it broke.
    pub reconnects: u64,
    /// The first failure, as one line.
    pub first_error: Option<String>,
    /// From the first request to the last reply.
    pub elapsed: Duration,
    /// Latency of every answered request, microseconds.
    pub latency: Histogram<u64>,
}

impl TestReport {
    /// Successful requests per second.
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency at quantile `q` (0.5, 0.99) in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }

    /// The `-q` line: `SET: 140548.14 requests per second, p50=0.183 msec, p99=0.391 msec, errors=0`.
    pub fn quiet_line(&self) -> String {
        format!(
            "{}: {:.2} requests per second, p50={:.3} msec, p99={:.3} msec, errors={}",
            self.test.name().to_ascii_uppercase(),
            self.rps(),
            self.ms(0.5),
            self.ms(0.99),
            self.errors
        )
    }

    /// The longer report (without `-q`).
    pub fn long(&self, o: &BenchOptions) -> String {
        let mut s = format!(
            "====== {} ======\n  {} requests completed in {:.2} seconds\n  {} parallel clients\n  {} bytes payload\n  pipeline {}\n",
            self.test.name().to_ascii_uppercase(),
            self.ok + self.errors,
            self.elapsed.as_secs_f64(),
            o.clients,
            o.data_size,
            o.pipeline
        );
        let _ = writeln!(
            s,
            "  latency (msec): p50={:.3} p99={:.3} max={:.3}",
            self.ms(0.5),
            self.ms(0.99),
            self.latency.max() as f64 / 1000.0
        );
        let _ = writeln!(
            s,
            "  errors: {} (reconnects: {}, not sent: {})",
            self.errors, self.reconnects, self.unsent
        );
        if let Some(e) = &self.first_error {
            let _ = writeln!(s, "  first error: {e}");
        }
        s.push_str(&self.quiet_line());
        s
    }
}

/// `--json`: `{"set":{"rps":..,"p50_ms":..,"p99_ms":..,"errors":..},...}`.
pub fn json(reports: &[TestReport]) -> String {
    let fields: Vec<String> = reports
        .iter()
        .map(|r| {
            format!(
                "\"{}\":{{\"rps\":{:.2},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"errors\":{}}}",
                r.test.name(),
                r.rps(),
                r.ms(0.5),
                r.ms(0.99),
                r.errors
            )
        })
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// The keys of a run: `bench:<id>:key`, `bench:<id>:counter`... On a cluster each connection
/// has its own keys, `bench:{<id>-<n>}:key`, so the load spreads over the masters while one
/// connection's pipeline stays in one slot.
#[derive(Debug, Clone)]
pub struct Keys {
    id: String,
    per_client: bool,
}

impl Keys {
    fn new(per_client: bool) -> Self {
        Self {
            id: format!("{:08x}", rand::random::<u32>()),
            per_client,
        }
    }

    /// The key `test` uses on connection `client`.
    pub fn key(&self, test: Test, client: usize) -> String {
        if self.per_client {
            format!("bench:{{{}-{client}}}:{}", self.id, test.key_name())
        } else {
            format!("bench:{}:{}", self.id, test.key_name())
        }
    }

    /// Every key the run may have written.
    fn all(&self, clients: usize) -> Vec<String> {
        let mut keys: Vec<String> = (0..if self.per_client { clients } else { 1 })
            .flat_map(|c| Test::ALL.map(|t| self.key(t, c)))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// Runs the tests and answers their reports; the run's keys are deleted at the end, whatever
/// happened. Must run inside a `tokio::task::LocalSet` (one thread, like `redis-benchmark`).
pub async fn run(redis: &Redis, o: &BenchOptions) -> Result<Vec<TestReport>, Error> {
    if o.clients == 0 || o.pipeline == 0 {
        return Err(Error::Usage("bench: -c and -P must be at least 1".into()));
    }
    let keys = Keys::new(redis.is_cluster());
    let mut reports = Vec::new();
    let mut outcome = Ok(());
    for &test in &o.tests {
        let r = if redis.is_cluster() {
            run_cluster(redis, o, &keys, test).await
        } else {
            run_raw(redis, o, &keys, test).await
        };
        match r {
            Ok(report) => reports.push(report),
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    cleanup(redis, &keys, o.clients).await;
    outcome?;
    if let Some(r) = reports.iter().find(|r| r.unsent > 0) {
        let lines: Vec<String> = reports.iter().map(TestReport::quiet_line).collect();
        return Err(Error::Connect {
            url: redis.url().to_owned(),
            reason: format!(
                "{}: gave up reconnecting after {}s; {} request(s) not sent ({} failed)\n{}",
                r.test.name().to_ascii_uppercase(),
                o.retry_for.as_secs_f64(),
                r.unsent,
                r.errors,
                lines.join("\n")
            ),
        });
    }
    Ok(reports)
}

async fn cleanup(redis: &Redis, keys: &Keys, clients: usize) {
    let all = keys.all(clients);
    let mut attempt = std::pin::pin!(delete(redis, &all));
    // A cluster may still be failing over (MOVED to a dead master): retry for a while.
    let patience = if redis.is_cluster() {
        Duration::from_secs(20)
    } else {
        redis.timeout().max(Duration::from_secs(5))
    };
    let deadline = Instant::now() + patience;
    let mut tries = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let why = match tokio::time::timeout(left, &mut attempt).await {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e.to_string(),
            Err(_) => "timed out".to_owned(),
        };
        if Instant::now() >= deadline {
            eprintln!("warning: cannot delete the benchmark's keys: {why}");
            return;
        }
        tokio::time::sleep(crate::pubsub::backoff(tries)).await;
        tries += 1;
        attempt.set(delete(redis, &all));
    }
}

async fn delete(redis: &Redis, all: &[String]) -> Result<(), Error> {
    let mut conn = redis.conn().await?;
    if redis.is_cluster() {
        // Keys in different slots: one DEL each (the client routes it).
        for k in all {
            let _: i64 = redis::cmd("DEL")
                .arg(k)
                .query_async(&mut conn)
                .await
                .map_err(|e| del_error(&e))?;
        }
    } else {
        let _: i64 = redis::cmd("DEL")
            .arg(all)
            .query_async(&mut conn)
            .await
            .map_err(|e| del_error(&e))?;
    }
    Ok(())
}

fn del_error(e: &redis::RedisError) -> Error {
    Error::Command {
        command: "DEL".into(),
        reason: describe(e),
    }
}

/// What the connections of one test share (one thread: `Cell`s, no locks).
struct Shared {
    remaining: Cell<u64>,
    pipeline: u64,
    ok: Cell<u64>,
    errors: Cell<u64>,
    unsent: Cell<u64>,
    reconnects: Cell<u64>,
    first_error: RefCell<Option<String>>,
    fatal: RefCell<Option<Error>>,
    latency: RefCell<Histogram<u64>>,
}

impl Shared {
    fn new(o: &BenchOptions) -> Self {
        Self {
            remaining: Cell::new(o.requests),
            pipeline: o.pipeline as u64,
            ok: Cell::new(0),
            errors: Cell::new(0),
            unsent: Cell::new(0),
            reconnects: Cell::new(0),
            first_error: RefCell::new(None),
            fatal: RefCell::new(None),
            latency: RefCell::new(
                Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds"),
            ),
        }
    }

    /// Takes the next batch: up to `-P` requests, 0 when the test is done.
    fn claim(&self) -> u64 {
        if self.fatal.borrow().is_some() {
            return 0;
        }
        let k = self.remaining.get().min(self.pipeline);
        self.remaining.set(self.remaining.get() - k);
        k
    }

    fn fail(&self, n: u64, why: impl FnOnce() -> String) {
        self.errors.set(self.errors.get() + n);
        let mut first = self.first_error.borrow_mut();
        if first.is_none() {
            *first = Some(why());
        }
    }

    fn report(&self, test: Test, elapsed: Duration) -> TestReport {
        TestReport {
            test,
            ok: self.ok.get(),
            errors: self.errors.get(),
            unsent: self.unsent.get(),
            reconnects: self.reconnects.get(),
            first_error: self.first_error.borrow().clone(),
            elapsed,
            latency: self.latency.borrow().clone(),
        }
    }
}

/// How a raw connection sets itself up: AUTH and SELECT when the URL asks for them.
struct Handshake {
    bytes: Vec<u8>,
    replies: usize,
}

impl Handshake {
    fn new(redis: &Redis) -> Self {
        let mut bytes = Vec::new();
        let mut replies = 0;
        match redis.credentials() {
            (Some(user), Some(pass)) => {
                resp::encode(&mut bytes, &[b"AUTH", user.as_bytes(), pass.as_bytes()]);
                replies += 1;
            }
            (None, Some(pass)) => {
                resp::encode(&mut bytes, &[b"AUTH", pass.as_bytes()]);
                replies += 1;
            }
            _ => {}
        }
        if redis.db() != 0 {
            resp::encode(&mut bytes, &[b"SELECT", redis.db().to_string().as_bytes()]);
            replies += 1;
        }
        Self { bytes, replies }
    }
}

/// A connection of its own: connect, TCP_NODELAY, AUTH/SELECT, all within `timeout`.
async fn open(
    addr: &(String, u16),
    hs: &Handshake,
    timeout: Duration,
) -> Result<TcpStream, String> {
    let attempt = async {
        let mut s = TcpStream::connect((addr.0.as_str(), addr.1))
            .await
            .map_err(|e| io_reason(&e))?;
        s.set_nodelay(true).map_err(|e| io_reason(&e))?;
        if hs.replies > 0 {
            s.write_all(&hs.bytes).await.map_err(|e| io_reason(&e))?;
            let mut buf = Vec::with_capacity(256);
            let mut seen = 0;
            let mut at = 0;
            while seen < hs.replies {
                if s.read_buf(&mut buf).await.map_err(|e| io_reason(&e))? == 0 {
                    return Err("the server closed the connection".to_owned());
                }
                while let Some(r) = resp::parse(&buf[at..]).map_err(|e| e.to_string())? {
                    let reply = &buf[at..at + r.len];
                    if r.kind != Kind::Status {
                        return Err(resp::line_text(reply));
                    }
                    at += r.len;
                    seen += 1;
                }
            }
        }
        Ok(s)
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(r) => r,
        Err(_) => Err(format!("timed out after {}s", timeout.as_secs_f64())),
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        std::io::ErrorKind::ConnectionReset => "connection reset by peer".into(),
        std::io::ErrorKind::BrokenPipe => "broken pipe".into(),
        _ => e.to_string(),
    }
}

async fn run_raw(
    redis: &Redis,
    o: &BenchOptions,
    keys: &Keys,
    test: Test,
) -> Result<TestReport, Error> {
    let addr = redis.addr()?;
    let hs = Rc::new(Handshake::new(redis));
    let value = vec![b'x'; o.data_size];
    let shared = Rc::new(Shared::new(o));

    // Connect every client first (as redis-benchmark does), then start the clock.
    let mut streams = Vec::with_capacity(o.clients);
    for _ in 0..o.clients {
        let s = open(&addr, &hs, redis.timeout())
            .await
            .map_err(|reason| Error::Connect {
                url: redis.url().to_owned(),
                reason,
            })?;
        streams.push(s);
    }
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(o.clients);
    for (n, stream) in streams.into_iter().enumerate() {
        let args = test.args(&keys.key(test, n), &value);
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let mut one = Vec::new();
        resp::encode(&mut one, &refs);
        let batch: Vec<u8> = one.repeat(o.pipeline);
        let client = RawClient {
            addr: addr.clone(),
            hs: hs.clone(),
            one_len: one.len(),
            batch,
            test,
            shared: shared.clone(),
            timeout: redis.timeout(),
            retry_for: o.retry_for,
        };
        tasks.push(tokio::task::spawn_local(client.run(stream)));
    }
    for t in tasks {
        t.await.map_err(|e| Error::Command {
            command: "bench (task)".into(),
            reason: e.to_string(),
        })?;
    }
    let elapsed = started.elapsed();
    if let Some(e) = shared.fatal.borrow_mut().take() {
        return Err(e);
    }
    let mut report = shared.report(test, elapsed);
    report.unsent += shared.remaining.get();
    Ok(report)
}

/// One connection of a raw run.
struct RawClient {
    addr: (String, u16),
    hs: Rc<Handshake>,
    one_len: usize,
    batch: Vec<u8>,
    test: Test,
    shared: Rc<Shared>,
    timeout: Duration,
    retry_for: Duration,
}

/// Why a batch did not complete.
enum Broken {
    /// The connection: reconnect and go on.
    Io(String),
    /// The server is not speaking RESP, or answered something the command cannot answer.
    Fatal(Error),
}

impl RawClient {
    async fn run(self, first: TcpStream) {
        let mut stream = Some(first);
        let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
        loop {
            let k = self.shared.claim();
            if k == 0 {
                return;
            }
            let mut s = if let Some(s) = stream.take() {
                s
            } else if let Some(s) = self.reconnect().await {
                s
            } else {
                self.shared.unsent.set(self.shared.unsent.get() + k);
                return;
            };
            buf.clear();
            let answered = Cell::new(0u64);
            let started = Instant::now();
            let exchange = self.exchange(&mut s, k, &mut buf, &answered);
            let outcome = match tokio::time::timeout(self.timeout, exchange).await {
                Ok(r) => r,
                Err(_) => Err(Broken::Io(format!(
                    "no reply within {}s",
                    self.timeout.as_secs_f64()
                ))),
            };
            match outcome {
                Ok(()) => {
                    let us = started.elapsed().as_micros().max(1) as u64;
                    let _ = self.shared.latency.borrow_mut().record_n(us, k);
                    stream = Some(s);
                }
                Err(Broken::Io(why)) => {
                    let lost = k - answered.get();
                    self.shared.fail(lost, || format!("connection lost: {why}"));
                    tracing::debug!(
                        "{}: connection lost ({why}); reconnecting",
                        self.test.name()
                    );
                }
                Err(Broken::Fatal(e)) => {
                    self.shared.fatal.borrow_mut().get_or_insert(e);
                    return;
                }
            }
        }
    }

    /// Writes `k` commands, reads `k` replies. `answered` counts the replies read so far (kept
    /// by the caller, so a timeout or a broken connection knows how many are lost).
    async fn exchange(
        &self,
        s: &mut TcpStream,
        k: u64,
        buf: &mut Vec<u8>,
        answered: &Cell<u64>,
    ) -> Result<(), Broken> {
        let bytes = &self.batch[..self.one_len * k as usize];
        s.write_all(bytes)
            .await
            .map_err(|e| Broken::Io(io_reason(&e)))?;
        let mut at = 0;
        while answered.get() < k {
            if at == buf.len() {
                buf.clear();
                at = 0;
            } else if at > 0 && buf.capacity() - buf.len() < 4096 {
                buf.drain(..at);
                at = 0;
            }
            if buf.capacity() - buf.len() < 4096 {
                buf.reserve(64 * 1024);
            }
            let n = s
                .read_buf(buf)
                .await
                .map_err(|e| Broken::Io(io_reason(&e)))?;
            if n == 0 {
                return Err(Broken::Io("the server closed the connection".into()));
            }
            loop {
                let parsed = resp::parse(&buf[at..]).map_err(|e| {
                    Broken::Fatal(Error::Command {
                        command: self.test.name().to_ascii_uppercase(),
                        reason: e.to_string(),
                    })
                })?;
                let Some(r) = parsed else { break };
                let reply = &buf[at..at + r.len];
                if self.test.accepts(r.kind, reply) {
                    self.shared.ok.set(self.shared.ok.get() + 1);
                } else if r.kind == Kind::Error {
                    let text = resp::line_text(reply);
                    self.shared.fail(1, || text);
                } else {
                    return Err(Broken::Fatal(Error::Command {
                        command: self.test.name().to_ascii_uppercase(),
                        reason: format!(
                            "unexpected reply {:?}",
                            String::from_utf8_lossy(&reply[..reply.len().min(60)])
                        ),
                    }));
                }
                at += r.len;
                answered.set(answered.get() + 1);
                if answered.get() > k {
                    return Err(Broken::Fatal(Error::Command {
                        command: self.test.name().to_ascii_uppercase(),
                        reason: "more replies than commands".into(),
                    }));
                }
            }
        }
        Ok(())
    }

    /// Connects again, waiting 50 ms, 100 ms, ... at most 1 s between attempts, for at most
    /// `retry_for`. `None`: gave up.
    async fn reconnect(&self) -> Option<TcpStream> {
        let deadline = Instant::now() + self.retry_for;
        let mut wait = Duration::from_millis(50);
        loop {
            tokio::time::sleep(wait).await;
            match open(&self.addr, &self.hs, self.timeout).await {
                Ok(s) => {
                    self.shared.reconnects.set(self.shared.reconnects.get() + 1);
                    return Some(s);
                }
                Err(why) => {
                    tracing::debug!("reconnect failed: {why}");
                    if Instant::now() >= deadline {
                        let mut first = self.shared.first_error.borrow_mut();
                        if first.is_none() {
                            *first = Some(format!("cannot reconnect: {why}"));
                        }
                        return None;
                    }
                }
            }
            wait = (wait * 2).min(Duration::from_secs(1));
        }
    }
}

/// The same test through the redis crate's cluster client: one task per connection, `-P`
/// commands per round trip as a pipeline (all in one slot: the connection's own keys).
async fn run_cluster(
    redis: &Redis,
    o: &BenchOptions,
    keys: &Keys,
    test: Test,
) -> Result<TestReport, Error> {
    // Each command is retried (with a slot-map refresh) a few times within its timeout, so a
    // failover costs the commands sent while no master serves the slot, not the run.
    let conn = redis.cluster_conn(Some(redis.timeout()), 3).await?;
    let shared = Rc::new(Shared::new(o));
    let value = vec![b'x'; o.data_size];
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..o.clients {
        let args = test.args(&keys.key(test, n), &value);
        let mut cmd = redis::cmd(std::str::from_utf8(&args[0]).unwrap_or("PING"));
        for a in &args[1..] {
            cmd.arg(a.as_slice());
        }
        let mut pipe = redis::pipe();
        for _ in 0..o.pipeline {
            pipe.add_command(cmd.clone());
        }
        let (shared, mut conn, limit) = (shared.clone(), conn.clone(), redis.timeout() * 2);
        let (redis, retry_for) = (redis.clone(), o.retry_for);
        tasks.push(tokio::task::spawn_local(async move {
            let mut streak = 0;
            let mut failing_since: Option<Instant> = None;
            loop {
                let k = shared.claim();
                if k == 0 {
                    return;
                }
                let t0 = Instant::now();
                let replies =
                    tokio::time::timeout(limit, cluster_batch(&mut conn, &cmd, &pipe, k)).await;
                let failed = match replies {
                    Ok(Ok(values)) => {
                        let good = values.iter().filter(|v| test.accepts_value(v)).count() as u64;
                        shared.ok.set(shared.ok.get() + good);
                        if good < k {
                            shared.fail(k - good, || format!("unexpected reply in {values:?}"));
                        }
                        let us = t0.elapsed().as_micros().max(1) as u64;
                        let _ = shared.latency.borrow_mut().record_n(us, good);
                        false
                    }
                    Ok(Err(e)) => {
                        shared.fail(k, || describe(&e));
                        true
                    }
                    Err(_) => {
                        shared.fail(k, || format!("no reply within {}s", limit.as_secs_f64()));
                        true
                    }
                };
                if !failed {
                    streak = 0;
                    failing_since = None;
                    continue;
                }
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= retry_for {
                    // Down for too long (no master for some slots, CLUSTERDOWN): stop; what
                    // was not sent is reported and the command fails.
                    return;
                }
                // Give the cluster time (failover, slot refresh) before the next batch: 50 ms
                // doubling to 1 s while the failures go on. From the second failure in a row,
                // a fresh cluster connection (a new slot map from the seeds): the client's own
                // repair can stall for good after a master died (seen with redis 1.8.1).
                tokio::time::sleep(crate::pubsub::backoff(streak)).await;
                streak += 1;
                if streak >= 2 {
                    let fresh = redis.cluster_conn(Some(redis.timeout()), 3);
                    if let Ok(Ok(c)) = tokio::time::timeout(limit, fresh).await {
                        conn = c;
                        shared.reconnects.set(shared.reconnects.get() + 1);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| Error::Command {
            command: "bench (task)".into(),
            reason: e.to_string(),
        })?;
    }
    let mut report = shared.report(test, started.elapsed());
    report.unsent += shared.remaining.get();
    Ok(report)
}

async fn cluster_batch(
    conn: &mut Conn,
    cmd: &redis::Cmd,
    pipe: &redis::Pipeline,
    k: u64,
) -> redis::RedisResult<Vec<Value>> {
    if k == 1 {
        Ok(vec![cmd.query_async::<Value>(conn).await?])
    } else if k as usize == pipe.len() {
        pipe.query_async::<Vec<Value>>(conn).await
    } else {
        let mut short = redis::pipe();
        for _ in 0..k {
            short.add_command(cmd.clone());
        }
        short.query_async::<Vec<Value>>(conn).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_lists_run_in_redis_benchmark_order() {
        assert_eq!(
            Test::parse_list("get,SET").unwrap(),
            vec![Test::Set, Test::Get]
        );
        assert_eq!(Test::parse_list("set,set").unwrap(), vec![Test::Set]);
        assert!(Test::parse_list("ping").is_err());
        assert!(Test::parse_list(",").is_err());
    }

    #[test]
    fn replies_are_checked_by_command() {
        assert!(Test::Set.accepts(Kind::Status, b"+OK\r\n"));
        assert!(!Test::Set.accepts(Kind::Status, b"+QUEUED\r\n"));
        assert!(Test::Get.accepts(Kind::Nil, b"$-1\r\n"));
        assert!(!Test::Get.accepts(Kind::Integer, b":1\r\n"));
        assert!(Test::Incr.accepts(Kind::Integer, b":1\r\n"));
        assert!(!Test::Incr.accepts(Kind::Error, b"-ERR x\r\n"));
    }

    #[test]
    fn commands_match_redis_benchmark() {
        assert_eq!(
            Test::Zadd.args("z", b"xxx"),
            vec![
                b"ZADD".to_vec(),
                b"z".to_vec(),
                b"0".to_vec(),
                b"element:__rand_int__".to_vec()
            ]
        );
        let keys = Keys {
            id: "ab".into(),
            per_client: true,
        };
        assert_eq!(keys.key(Test::Get, 3), "bench:{ab-3}:key");
        assert_eq!(keys.all(2).len(), 12);
        let keys = Keys {
            id: "ab".into(),
            per_client: false,
        };
        assert_eq!(keys.key(Test::Lpush, 3), "bench:ab:mylist");
        assert_eq!(keys.all(50).len(), 6);
    }

    #[test]
    fn quiet_line_and_json() {
        let mut latency = Histogram::new_with_bounds(1, 60_000_000, 3).unwrap();
        latency.record_n(183, 60).unwrap();
        latency.record_n(400, 40).unwrap();
        let r = TestReport {
            test: Test::Set,
            ok: 100,
            errors: 2,
            unsent: 0,
            reconnects: 0,
            first_error: None,
            elapsed: Duration::from_millis(500),
            latency,
        };
        assert_eq!(
            r.quiet_line(),
            "SET: 200.00 requests per second, p50=0.183 msec, p99=0.400 msec, errors=2"
        );
        assert_eq!(
            json(&[r]),
            r#"{"set":{"rps":200.00,"p50_ms":0.183,"p99_ms":0.400,"errors":2}}"#
        );
    }
}
