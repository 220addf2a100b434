//! `rabbit-ops bench`: publish rate, consume rate, end-to-end latency and lost messages, through
//! the same layer the tutorials use ([`Publisher`](crate::publish::Publisher) with its confirm
//! tracking, [`recovering`](crate::consume::recovering) consumers), so that the figures are what
//! the tools get.
//!
//! Workload: a fresh queue (a quorum queue with `--quorum`; else classic, durable with
//! `--persistent`), consumers started first
//! (manual acks, `--prefetch`, one `multiple` ack every prefetch/4 messages), then producers
//! publish `--messages` in all, each its own contiguous range of sequence numbers. Every body
//! starts with its sequence number and the time it was published (nanoseconds since the start
//! of the run, both little-endian u64), padded to `--size`. The consumers record the latency of
//! each message and which sequence numbers arrived: a missing one is lost (the run exits 1).
//! `--stream`: the same on a stream ([`stream`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use amiquip::{QueueDeclareOptions, QueueDeleteOptions};
use common::output::Out;
use hdrhistogram::Histogram;

use crate::broker::{Broker, declare_queue};
use crate::error::Error;
use crate::queues::{Declared, Generation};
use crate::stop::{Stop, StopHandle};
pub mod stream;
mod workers;

pub use workers::SPAWN_PANIC;
use workers::{consume, joined, produce, spawn_failed};

/// The smallest body: sequence number and timestamp.
pub const HEADER: usize = 16;

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)] // one per switch of `bench`
pub struct Config {
    /// Messages in all.
    pub messages: u64,
    /// Bytes per message (at least [`HEADER`]: `cli` checks it).
    pub size: usize,
    /// Publishing connections.
    pub producers: u64,
    /// Consuming connections.
    pub consumers: u64,
    /// Persistent messages on a durable queue.
    pub persistent: bool,
    /// Publisher confirms.
    pub confirm: bool,
    /// Unacknowledged messages per consumer.
    pub prefetch: u16,
    /// One JSON object instead of lines.
    pub json: bool,
    /// A quorum queue (durable, replicated) instead of a classic one.
    pub quorum: bool,
}

/// The figures.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Report {
    /// Messages per second published (confirmed, with confirms).
    pub publish_per_s: f64,
    /// Messages per second received, from the first publish to the last delivery.
    pub consume_per_s: f64,
    /// Median latency, publish to delivery, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency in milliseconds.
    pub p99_ms: f64,
    /// Sequence numbers never received.
    pub lost: u64,
    /// Deliveries of a sequence number already received.
    pub duplicates: u64,
}

impl Report {
    /// The `--json` object.
    pub fn json(&self) -> String {
        format!(
            "{{\"publish_per_s\":{:.0},\"consume_per_s\":{:.0},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\
             \"lost\":{}}}",
            self.publish_per_s, self.consume_per_s, self.p50_ms, self.p99_ms, self.lost
        )
    }
}

/// Encodes a body: sequence number, timestamp, zero padding.
pub fn body(seq: u64, nanos: u64, size: usize) -> Vec<u8> {
    let mut b = vec![0u8; size.max(HEADER)];
    b[..8].copy_from_slice(&seq.to_le_bytes());
    b[8..16].copy_from_slice(&nanos.to_le_bytes());
    b
}

/// Decodes the sequence number and timestamp of a body.
pub fn decode(body: &[u8]) -> Option<(u64, u64)> {
    let seq = u64::from_le_bytes(body.get(..8)?.try_into().ok()?);
    let nanos = u64::from_le_bytes(body.get(8..16)?.try_into().ok()?);
    Some((seq, nanos))
}

fn since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// What the consumers share.
struct Tally {
    seen: Vec<AtomicBool>,
    received: AtomicU64,
    /// Messages published (confirmed, with confirms), over all producers.
    published: AtomicU64,
    /// SIGINT/SIGTERM: producers stop publishing, consumers stop consuming.
    interrupted: AtomicBool,
    duplicates: AtomicU64,
    last_nanos: AtomicU64,
    latency: Mutex<Histogram<u64>>,
    done: Mutex<Option<StopHandle>>,
}

impl Tally {
    /// Lets the consumers go: every message arrived, or nothing more will come.
    fn release(&self) {
        drop(
            self.done
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
    }
}

fn histogram() -> Histogram<u64> {
    // Microseconds, 1 µs to 10 min, 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Runs the benchmark and prints its figures.
pub fn run(
    broker: &Broker,
    config: &Config,
    out: &mut Out<impl std::io::Write>,
) -> Result<Report, Error> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let queue = format!("rabbit-ops-bench-{}-{nanos:x}", std::process::id());
    let options = if config.quorum {
        Declared::transient_classic(Generation::Quorum).options()
    } else {
        QueueDeclareOptions {
            durable: config.persistent,
            ..QueueDeclareOptions::default()
        }
    };
    // Signals first: from the queue's creation on, a signal ends the run with it deleted.
    let signal = Stop::on_signal()?;
    tracing::info!("bench queue '{queue}'");
    let admin = broker.session()?;
    admin.within("declaring the bench queue", || {
        declare_queue(&admin.channel, &queue, options.clone(), "queue").map(drop)
    })?;
    let result = measure(broker, config, &queue, &options, &signal);
    let _ = admin.within("deleting the bench queue", || {
        admin
            .channel
            .queue_delete(queue.as_str(), QueueDeleteOptions::default())
            .map_err(|e| Error::amqp("deleting the bench queue", e))
    });
    admin.close()?;
    let (report, interrupted) = result?;
    if config.json {
        out.line(format_args!("{}", report.json()))?;
    } else {
        out.line(format_args!(
            "bench: {} messages of {} bytes, {} producer(s), {} consumer(s), prefetch {}, \
                 {}, {}",
            config.messages,
            config.size,
            config.producers,
            config.consumers,
            config.prefetch,
            if config.quorum {
                "quorum queue"
            } else if config.persistent {
                "persistent"
            } else {
                "transient"
            },
            if config.confirm {
                "confirms"
            } else {
                "no confirms"
            }
        ))?;
        print_figures(&report, out)?;
    }
    if let Some(Interrupted {
        published,
        received,
    }) = interrupted
    {
        return Err(Error::Interrupted {
            what: format!(
                "bench: {published} of {} messages published, {received} received; queue \
                 deleted",
                config.messages
            ),
        });
    }
    if report.lost > 0 {
        return Err(Error::Lost {
            lost: report.lost,
            messages: config.messages,
        });
    }
    Ok(report)
}

/// The figures' lines, after the line that says what ran.
fn print_figures(report: &Report, out: &mut Out<impl std::io::Write>) -> Result<(), Error> {
    out.line(format_args!("publish: {:.0} msg/s", report.publish_per_s))?;
    out.line(format_args!("consume: {:.0} msg/s", report.consume_per_s))?;
    out.line(format_args!(
        "latency: p50 {:.3} ms, p99 {:.3} ms",
        report.p50_ms, report.p99_ms
    ))?;
    out.line(format_args!(
        "lost: {}, duplicates: {}",
        report.lost, report.duplicates
    ))?;
    Ok(())
}

/// How far an interrupted run went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Interrupted {
    published: u64,
    received: u64,
}

fn measure(
    broker: &Broker,
    config: &Config,
    queue: &str,
    options: &QueueDeclareOptions,
    signal: &Stop,
) -> Result<(Report, Option<Interrupted>), Error> {
    let n = config.messages;
    let (handle, stop) = Stop::manual();
    let tally = Arc::new(Tally {
        seen: (0..n).map(|_| AtomicBool::new(false)).collect(),
        received: AtomicU64::new(0),
        published: AtomicU64::new(0),
        interrupted: AtomicBool::new(false),
        duplicates: AtomicU64::new(0),
        last_nanos: AtomicU64::new(0),
        latency: Mutex::new(histogram()),
        done: Mutex::new(Some(handle)),
    });
    // Each consumer says once that it consumes (or failed to): the producers start after all.
    let (ready_tx, ready_rx) = crossbeam_channel::unbounded::<()>();
    let epoch = Instant::now();
    let ack_every = u64::from((config.prefetch / 4).max(1));
    let result = std::thread::scope(|scope| {
        // SIGINT/SIGTERM: every thread stops; the figures are what was measured so far.
        let (finished_tx, finished) = crossbeam_channel::bounded::<()>(0);
        let watcher = Arc::clone(&tally);
        let signal = signal.clone();
        let _ = std::thread::Builder::new()
            .name("signals".into())
            .spawn_scoped(scope, move || {
                crossbeam_channel::select! {
                    recv(signal.receiver()) -> _ => {
                        watcher.interrupted.store(true, Ordering::Relaxed);
                        watcher.release();
                    }
                    recv(finished) -> _ => {}
                }
            });
        let _finished = finished_tx;
        let mut first_error = None;
        let shared: &Tally = &tally;
        let mut consumers = Vec::new();
        for i in 0..config.consumers {
            let (tally, stop, ready) = (Arc::clone(&tally), stop.clone(), ready_tx.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("consumer-{i}"))
                .spawn_scoped(scope, move || {
                    consume(
                        broker, config, queue, options, ack_every, epoch, &tally, &stop, &ready,
                    )
                });
            match spawned {
                Ok(c) => consumers.push(c),
                Err(e) => {
                    first_error = Some(spawn_failed("consumer", i, config.consumers, e));
                    break;
                }
            }
        }
        for _ in 0..consumers.len() {
            let _ = ready_rx.recv();
        }
        let start = since(epoch);
        let mut producers = Vec::new();
        for p in 0..config.producers {
            if first_error.is_some() {
                break;
            }
            let from = n * p / config.producers;
            let to = n * (p + 1) / config.producers;
            let spawned = std::thread::Builder::new()
                .name(format!("producer-{p}"))
                .spawn_scoped(scope, move || {
                    produce(broker, config, queue, options, from..to, epoch, shared)
                });
            match spawned {
                Ok(t) => producers.push(t),
                Err(e) => first_error = Some(spawn_failed("producer", p, config.producers, e)),
            }
        }
        if first_error.is_some() {
            // Nothing more will come: let the consumers go.
            tally.release();
        }
        let mut published_until = start;
        for (i, p) in producers.into_iter().enumerate() {
            match p
                .join()
                .unwrap_or_else(|panic| joined("producer", i, config.producers, panic))
            {
                Ok(end) => published_until = published_until.max(end),
                Err(e) => {
                    first_error.get_or_insert(e);
                    tally.release();
                }
            }
        }
        for (i, c) in consumers.into_iter().enumerate() {
            if let Err(e) = c
                .join()
                .unwrap_or_else(|panic| joined("consumer", i, config.consumers, panic))
            {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok((start, published_until)),
        }
    });
    let (start, published_until) = result?;
    let interrupted = tally.interrupted.load(Ordering::Relaxed);
    let n = if interrupted {
        tally.published.load(Ordering::Relaxed)
    } else {
        n
    };
    let received: u64 = tally
        .seen
        .iter()
        .map(|s| u64::from(s.load(Ordering::Relaxed)))
        .sum();
    let per_s = |end: u64| {
        let secs = (end.saturating_sub(start)) as f64 / 1e9;
        if secs > 0.0 { n as f64 / secs } else { 0.0 }
    };
    let hist = tally.latency.lock().unwrap_or_else(PoisonError::into_inner);
    let received = if interrupted {
        tally.received.load(Ordering::Relaxed)
    } else {
        received
    };
    let report = Report {
        publish_per_s: per_s(published_until),
        consume_per_s: per_s(tally.last_nanos.load(Ordering::Relaxed)),
        p50_ms: hist.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: hist.value_at_quantile(0.99) as f64 / 1000.0,
        lost: n.saturating_sub(received),
        duplicates: tally.duplicates.load(Ordering::Relaxed),
    };
    let interrupted = interrupted.then_some(Interrupted {
        published: n,
        received,
    });
    Ok((report, interrupted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_carry_sequence_and_time() {
        let b = body(7, 123_456, 100);
        assert_eq!(b.len(), 100);
        assert_eq!(decode(&b), Some((7, 123_456)));
        assert_eq!(body(1, 2, 3).len(), HEADER);
        assert_eq!(decode(&[0; 10]), None);
    }

    #[test]
    fn json_has_the_five_fields() {
        let r = Report {
            publish_per_s: 1234.4,
            consume_per_s: 999.6,
            p50_ms: 1.5,
            p99_ms: 12.25,
            lost: 0,
            duplicates: 0,
        };
        assert_eq!(
            r.json(),
            "{\"publish_per_s\":1234,\"consume_per_s\":1000,\"p50_ms\":1.500,\"p99_ms\":12.250,\
             \"lost\":0}"
        );
    }
}
