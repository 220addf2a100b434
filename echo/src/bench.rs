//! The load generator: closed-loop ping-pong on many connections at once.
//!
//! Each connection sends a message of `size` bytes, waits until exactly that message has come
//! back (every byte is compared), records the round trip in an HDR histogram, and sends the next
//! one, for `duration`. Every message differs from the one before (it starts with its sequence
//! number) and from those of the other connections (the rest is random per connection), so a
//! server that mixes up connections or replays an old message is caught.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout_at};

use common::net::describe_io;
use common::shutdown::Signal;

use crate::Error;

/// Sizes up to this are written then read; larger ones are written while being read.
const SEQUENTIAL_MAX: usize = 64 * 1024;

/// Spare room after a message in the read buffer.
const EXTRA: usize = 1024;

/// How long after the end a connection may take to get its last echo back.
const LAST_ECHO_GRACE: Duration = Duration::from_secs(2);

/// How long all the connections may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most connections one run opens (`--connections`): far beyond what one machine's ports
/// and descriptors allow, and small enough that the bookkeeping for them is a few MB.
pub const MAX_CONNECTIONS: usize = 100_000;

/// The largest message (`--size`): 16 MiB.
pub const MAX_SIZE: usize = 16 * 1024 * 1024;

/// The most message bytes in flight at once (`--connections` x `--size`): 256 MiB. Each
/// connection holds its message and a read buffer of the same size, so a run's buffers take
/// twice this at most.
pub const MAX_IN_FLIGHT: usize = 256 * 1024 * 1024;

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The echo server.
    pub addr: SocketAddr,
    /// Connections, each with one message in flight.
    pub connections: usize,
    /// Bytes per message.
    pub size: usize,
    /// How long to send for (connecting is not counted).
    pub duration: Duration,
}

impl Config {
    /// Refuses settings that cannot run (a usage error, exit 2).
    pub fn check(&self) -> Result<(), Error> {
        if !(1..=MAX_CONNECTIONS).contains(&self.connections) {
            return Err(Error::usage(format!(
                "--connections must be between 1 and {MAX_CONNECTIONS}"
            )));
        }
        if !(1..=MAX_SIZE).contains(&self.size) {
            return Err(Error::usage(format!(
                "--size must be between 1 and {MAX_SIZE} bytes"
            )));
        }
        let in_flight = self.connections * self.size;
        if in_flight > MAX_IN_FLIGHT {
            return Err(Error::usage(format!(
                "--connections x --size must be at most {MAX_IN_FLIGHT} bytes, not {in_flight}"
            )));
        }
        if self.duration.is_zero() {
            return Err(Error::usage("--duration must be more than 0"));
        }
        Ok(())
    }
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// The slowest round trip.
    pub max: f64,
}

/// What a run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The server.
    pub addr: SocketAddr,
    /// Connections used.
    pub connections: usize,
    /// Bytes per message.
    pub size: usize,
    /// Seconds measured.
    pub seconds: f64,
    /// Messages echoed and checked.
    pub messages: u64,
    /// Messages per second.
    pub messages_per_sec: f64,
    /// Payload megabytes (10^6 bytes) echoed per second, counted once (not both directions).
    pub mb_per_sec: f64,
    /// Round-trip latency.
    pub latency_us: Latency,
    /// Connections that failed: a differing echo, a closed or reset connection, no echo.
    pub errors: u64,
    /// The first error, in words.
    pub first_error: Option<String>,
    /// The signal that cut the run short; the report then covers what completed until it came.
    pub interrupted: Option<Signal>,
}

impl Report {
    /// The report as one JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        let l = &self.latency_us;
        serde_json::json!({
            "addr": self.addr.to_string(),
            "connections": self.connections,
            "size": self.size,
            "seconds": round(self.seconds, 3),
            "messages": self.messages,
            "messages_per_sec": round(self.messages_per_sec, 1),
            "mb_per_sec": round(self.mb_per_sec, 2),
            "latency_us": {
                "p50": round(l.p50, 1),
                "p90": round(l.p90, 1),
                "p99": round(l.p99, 1),
                "p99_9": round(l.p999, 1),
                "max": round(l.max, 1),
            },
            "errors": self.errors,
            "first_error": self.first_error,
        })
    }

    /// The report as text, a few aligned lines.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let l = &self.latency_us;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "echo-bench: {}, {} connection{} x {} B, {:.1} s",
            self.addr,
            self.connections,
            if self.connections == 1 { "" } else { "s" },
            self.size,
            self.seconds
        );
        let _ = writeln!(s, "messages/s   {:.0}", self.messages_per_sec);
        let _ = writeln!(
            s,
            "MB/s         {:.2}  (payload echoed, one direction)",
            self.mb_per_sec
        );
        let _ = writeln!(
            s,
            "latency us   p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
            l.p50, l.p90, l.p99, l.p999, l.max
        );
        let _ = writeln!(s, "messages     {}", self.messages);
        let _ = write!(s, "errors       {}", self.errors);
        if let Some(e) = &self.first_error {
            let _ = write!(s, "  (first: {e})");
        }
        s.push('\n');
        s
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

/// How a connection's run ended: `Some` error, or `None` when it ran to the end.
type ConnResult = Option<String>;

/// Round trips recorded by every connection into one histogram, in batches: a connection keeps
/// its latest round trips in a small buffer of its own (sequential writes, cache-friendly) and
/// takes the lock once per [`BATCH`] messages. One histogram per connection would spread tens of
/// KiB of counters per connection over the cache.
#[derive(Clone)]
struct Recorder {
    shared: Arc<Mutex<Histogram<u64>>>,
    progress: Arc<AtomicU64>,
}

/// Round trips kept by a connection before they go into the shared histogram.
const BATCH: usize = 256;

impl Recorder {
    fn flush(&self, batch: &mut Vec<u64>) {
        let mut hist = self.shared.lock().expect("no panic while recording");
        for &ns in batch.iter() {
            let _ = hist.record(ns);
        }
        drop(hist);
        self.progress
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        batch.clear();
    }
}

/// A connection's latest round trips, flushed into the shared histogram every [`BATCH`]
/// messages and when dropped: a connection stopped early (SIGINT, or stuck at the end) still
/// counts every echo it completed.
struct Batch {
    recorder: Recorder,
    round_trips: Vec<u64>,
}

impl Batch {
    fn new(recorder: Recorder) -> Self {
        Self {
            recorder,
            round_trips: Vec::with_capacity(BATCH),
        }
    }

    fn push(&mut self, ns: u64) {
        self.round_trips.push(ns);
        if self.round_trips.len() == BATCH {
            self.recorder.flush(&mut self.round_trips);
        }
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        self.recorder.flush(&mut self.round_trips);
    }
}

/// Opens the connections, runs the ping-pong for `config.duration`, and reports. `progress`
/// counts messages as they complete (in batches), for a progress display.
///
/// `stop` (SIGINT or SIGTERM, from [`common::shutdown::install`]) ends the run early: while
/// connecting, with an [`Error::Interrupted`] saying how many connections were open; once
/// running, every connection stops at once and the report covers the echoes completed until
/// then ([`Report::interrupted`] is set, [`Report::seconds`] is the time actually run).
///
/// Nothing waits without a bound: connecting takes 10 s at most, and a connection still
/// waiting for its echo 2 s after the end is counted as an error and dropped.
pub async fn run(
    config: &Config,
    progress: Arc<AtomicU64>,
    stop: impl Future<Output = Signal>,
) -> Result<Report, Error> {
    config.check()?;
    let addr = config.addr;
    let mut stop = std::pin::pin!(stop);
    let mut streams = Vec::with_capacity(config.connections);
    if let Err(signal) = crate::or_signal(connect_all(config, &mut streams), stop.as_mut()).await {
        return Err(Error::interrupted(
            signal,
            format!(
                "{} of {} connections to {addr} were open",
                streams.len(),
                config.connections
            ),
        ));
    }
    let streams = streams.into_iter().collect::<Result<Vec<_>, _>>()?;

    let recorder = Recorder {
        shared: Arc::new(Mutex::new(new_histogram())),
        progress,
    };
    let start = Instant::now();
    let stop_at = start + config.duration;
    let mut tasks = JoinSet::new();
    for (id, stream) in streams.into_iter().enumerate() {
        tasks.spawn(ping_pong(
            stream,
            id as u64,
            config.size,
            stop_at,
            recorder.clone(),
        ));
    }

    let mut errors = 0;
    let mut first_error = None;
    let mut interrupted = None;
    let give_up = stop_at + LAST_ECHO_GRACE;
    loop {
        let joined = tokio::select! {
            joined = timeout_at(give_up, tasks.join_next()) => joined,
            signal = stop.as_mut() => {
                interrupted = Some(signal);
                // Each connection's batch is flushed as its task is dropped.
                tasks.shutdown().await;
                break;
            }
        };
        match joined {
            Ok(None) => break,
            Ok(Some(joined)) => {
                if let Some(e) = joined.expect("a ping-pong task does not panic") {
                    errors += 1;
                    first_error.get_or_insert(e);
                }
            }
            Err(_) => {
                let stuck = tasks.len() as u64;
                tasks.shutdown().await;
                errors += stuck;
                first_error.get_or_insert(format!(
                    "{stuck} connection(s) got no echo within {} of the end",
                    common::fmt::duration(LAST_ECHO_GRACE)
                ));
                break;
            }
        }
    }
    let ran = start.elapsed().min(config.duration);
    let hist = recorder
        .shared
        .lock()
        .expect("no panic while recording")
        .clone();
    let seconds = if interrupted.is_some() {
        ran.as_secs_f64().max(1e-6)
    } else {
        config.duration.as_secs_f64()
    };
    let messages = hist.len();
    let us = |ns: u64| ns as f64 / 1000.0;
    let latency_us = if hist.is_empty() {
        Latency::default()
    } else {
        Latency {
            p50: us(hist.value_at_quantile(0.50)),
            p90: us(hist.value_at_quantile(0.90)),
            p99: us(hist.value_at_quantile(0.99)),
            p999: us(hist.value_at_quantile(0.999)),
            max: us(hist.max()),
        }
    };
    Ok(Report {
        addr,
        connections: config.connections,
        size: config.size,
        seconds,
        messages,
        messages_per_sec: messages as f64 / seconds,
        mb_per_sec: (messages * config.size as u64) as f64 / seconds / 1e6,
        latency_us,
        errors,
        first_error,
        interrupted,
    })
}

/// Opens `config.connections` connections at once, all within [`CONNECT_TIMEOUT`], into
/// `streams` (one result each, as they come: the count so far is what an interruption reports).
async fn connect_all(config: &Config, streams: &mut Vec<Result<TcpStream, Error>>) {
    let addr = config.addr;
    let connect_deadline = Instant::now() + CONNECT_TIMEOUT;
    let mut connecting = JoinSet::new();
    for _ in 0..config.connections {
        connecting.spawn(timeout_at(connect_deadline, TcpStream::connect(addr)));
    }
    while let Some(r) = connecting.join_next().await {
        let stream = match r.expect("a connect task does not panic") {
            Ok(Ok(s)) => s,
            Ok(Err(cause)) => {
                streams.push(Err(Error::Connect { addr, cause }));
                return;
            }
            Err(_) => {
                streams.push(Err(Error::Connect {
                    addr,
                    cause: std::io::Error::other(format!(
                        "connections not all established within {}",
                        common::fmt::duration(CONNECT_TIMEOUT)
                    )),
                }));
                return;
            }
        };
        let _ = stream.set_nodelay(true);
        streams.push(Ok(stream));
    }
}

fn new_histogram() -> Histogram<u64> {
    // Nanoseconds, 3 significant digits; grows to fit the slowest round trip.
    Histogram::new(3).expect("3 significant digits is valid")
}

/// A connection's message pattern: random bytes from a per-connection seed.
fn pattern(id: u64, size: usize) -> Vec<u8> {
    let mut x = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

async fn ping_pong(
    mut stream: TcpStream,
    id: u64,
    size: usize,
    stop_at: Instant,
    recorder: Recorder,
) -> ConnResult {
    let mut msg = pattern(id, size);
    // Room beyond the message: a read that fills the message leaves the buffer part empty,
    // which tells the runtime the socket is drained (no extra read that would only block), and
    // bytes the server sends beyond the message are caught.
    let mut buf = vec![0u8; size + EXTRA];
    let mut batch = Batch::new(recorder);
    let mut messages = 0u64;
    let mut t0 = Instant::now();
    let error = loop {
        if t0 >= stop_at {
            break None;
        }
        // Every message differs from the last: its first bytes are its sequence number.
        let seq = messages.to_le_bytes();
        let k = seq.len().min(size);
        msg[..k].copy_from_slice(&seq[..k]);
        let exchanged = if size <= SEQUENTIAL_MAX {
            exchange(&mut stream, &msg, &mut buf).await
        } else {
            let (mut rd, mut wr) = stream.split();
            let (w, r) = tokio::join!(wr.write_all(&msg), read_full(&mut rd, &mut buf));
            w.map_err(|e| format!("write failed: {}", describe_io(&e)))
                .and(r)
        };
        if let Err(e) = exchanged {
            break Some(e);
        }
        if buf[..size] != msg[..] {
            let at = buf.iter().zip(&msg).position(|(a, b)| a != b).unwrap_or(0);
            break Some(format!(
                "message {messages} on connection {id} came back different at byte {at}"
            ));
        }
        let t1 = Instant::now();
        batch.push((t1 - t0).as_nanos() as u64);
        t0 = t1;
        messages += 1;
    };
    drop(batch);
    error
}

async fn exchange(stream: &mut TcpStream, msg: &[u8], buf: &mut [u8]) -> Result<(), String> {
    stream
        .write_all(msg)
        .await
        .map_err(|e| format!("write failed: {}", describe_io(&e)))?;
    read_full(stream, buf).await
}

/// Reads one echo of `buf.len() - EXTRA` bytes into `buf`.
async fn read_full<R: AsyncReadExt + Unpin>(rd: &mut R, buf: &mut [u8]) -> Result<(), String> {
    let size = buf.len() - EXTRA;
    let mut got = 0;
    while got < size {
        match rd.read(&mut buf[got..]).await {
            Ok(0) => {
                return Err(format!(
                    "the server closed the connection ({got} of {size} bytes echoed)"
                ));
            }
            Ok(n) => got += n,
            Err(e) => return Err(format!("read failed: {}", describe_io(&e))),
        }
    }
    if got > size {
        return Err(format!(
            "the server sent {} bytes more than the message",
            got - size
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_differ_between_connections() {
        assert_ne!(pattern(0, 64), pattern(1, 64));
        assert_eq!(pattern(7, 64), pattern(7, 64));
        assert_eq!(pattern(3, 5).len(), 5);
    }

    #[test]
    fn bad_settings_are_usage_errors() {
        let ok = Config {
            addr: "127.0.0.1:1".parse().unwrap(),
            connections: 1,
            size: 1,
            duration: Duration::from_secs(1),
        };
        assert!(ok.check().is_ok());
        for bad in [
            Config {
                connections: 0,
                ..ok.clone()
            },
            Config {
                size: 0,
                ..ok.clone()
            },
            Config {
                duration: Duration::ZERO,
                ..ok.clone()
            },
            Config {
                connections: MAX_CONNECTIONS + 1,
                ..ok.clone()
            },
            Config {
                size: MAX_SIZE + 1,
                ..ok.clone()
            },
            Config {
                connections: 17,
                size: MAX_SIZE,
                ..ok.clone()
            },
        ] {
            assert!(matches!(bad.check(), Err(Error::Usage(_))));
        }
        // Each bound itself is accepted.
        for good in [
            Config {
                connections: MAX_CONNECTIONS,
                size: MAX_IN_FLIGHT / MAX_CONNECTIONS,
                ..ok.clone()
            },
            Config {
                connections: 16,
                size: MAX_SIZE,
                ..ok.clone()
            },
        ] {
            assert!(good.check().is_ok(), "{good:?}");
        }
    }
}
