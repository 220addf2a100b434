//! `rabbit-ops bench`: publish rate, consume rate, end-to-end latency and lost messages, through
//! the same layer the tutorials use ([`Publisher`](crate::publish::Publisher) with its confirm
//! tracking, [`recovering`](crate::consume::recovering) consumers), so that the figures are what
//! the tools get.
//!
//! Workload: a fresh durable queue (a quorum queue with `--quorum`; RabbitMQ 4.3 refuses a transient one shared by several
//! consumers; persistent messages only with `--persistent`; the broker deletes the queue
//! [`QUEUE_EXPIRES`] after its last consumer is gone, should the bench be killed before it
//! deletes it itself), consumers started first (manual acks, `--prefetch`, one `multiple` ack
//! every prefetch/4 messages), then producers publish `--messages` in all, each its own
//! contiguous range of sequence numbers, or for `--duration`. Every body carries its sequence
//! number, how late it was published after it was due, and its publish time ([`body`]). The
//! consumers record both latencies of each message and which sequence numbers arrived: a missing
//! one is lost (the run exits 1).
//!
//! Closed-loop (the default), each producer publishes as fast as it can: a message is due when it
//! is published. With `--rate N` ([`common::schedule`]), N messages per second in all are spread
//! evenly over the producers; each waits until its next message is due, or publishes at once
//! when it is late. The latency is then measured from the time each message was due
//! (*corrected*) as well as from its publish (*service* time). With `--confirm` a producer keeps
//! one message in flight, as echo-bench's connections do: it waits for the confirm before it
//! publishes the next, so a broker that stalls holds the producers, and the messages due
//! meanwhile wait in the generator, where only the corrected latency sees them. Without
//! confirms nothing holds a producer (amiquip and the socket buffer what the broker does not
//! take), so a stall shows in both latencies alike. `--warmup` runs before the counting starts.
//!
//! `--stream`: publish with confirms and consume on a stream ([`stream`]).

mod body;
mod report;
pub mod stream;
mod tally;
mod workers;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use amiquip::{AmqpValue, FieldTable, QueueDeclareOptions, QueueDeleteOptions};
use common::output::Out;
use common::progress::Ticker;
use common::schedule::{Lag, Pace, RateCheck, Schedule, Window};
use tokio::time::Instant;

use crate::broker::{Broker, declare_queue};
use crate::cli::values::MAX_MESSAGES;
use crate::error::Error;
use crate::queues::{Declared, Generation};
use crate::stop::Stop;

pub use body::{HEADER, Stamp, body, decode};
pub use report::{Measured, Report};
use tally::Tally;
pub use workers::SPAWN_PANIC;
use workers::{Produced, Producer, consume, joined, produce, spawn_failed};

/// How long the broker keeps a bench queue nobody consumes from (`x-expires`): a bench killed
/// before it could delete its queue (SIGKILL, a crash) leaves it for that long, not forever.
/// The consumers are there from the declaration to the end of a run, so this only counts once
/// they are all gone; while they reconnect after a lost connection, the queue waits that long.
pub const QUEUE_EXPIRES: Duration = Duration::from_secs(10);

// Every sequence number of a run fits the u32 of a body.
const _: () = assert!(MAX_MESSAGES + 2 * 1000 < u32::MAX as u64);

/// How long a run lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// `--messages`: this many in all, warm-up included.
    Messages(u64),
    /// `--duration`: publishing for this long after the warm-up.
    Duration(Duration),
}

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(clippy::struct_excessive_bools)] // one per switch of the command line
pub struct Config {
    /// A number of messages or a time.
    pub length: Length,
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
    /// Closed-loop or `--rate`, and `--warmup`.
    pub pace: Pace,
    /// One JSON object instead of lines.
    pub json: bool,
    /// The live line even when stderr is not a terminal.
    pub progress: bool,
    /// A quorum queue (durable, replicated) instead of a classic one.
    pub quorum: bool,
}

impl Config {
    /// The sequence numbers of producer `p`: its share of `--messages`; for a timed run, room
    /// for what it may publish (closed-loop, its share of [`MAX_MESSAGES`]).
    fn seqs(&self, p: u64) -> std::ops::Range<u64> {
        let share = |n: u64| n * p / self.producers..n * (p + 1) / self.producers;
        match self.length {
            Length::Messages(n) => share(n),
            Length::Duration(d) => {
                let per = match self.pace.rate {
                    // The schedule's messages, rounded up, and one more.
                    Some(rate) => {
                        let all = (rate as f64 * (self.pace.warmup + d).as_secs_f64()).ceil();
                        (all as u64).div_ceil(self.producers) + 1
                    }
                    None => MAX_MESSAGES / self.producers,
                };
                per * p..per * (p + 1)
            }
        }
    }

    /// Room for every sequence number of the run.
    fn capacity(&self) -> u64 {
        self.seqs(self.producers - 1).end
    }

    /// How long a consumer may go without a message before it gives up (lost messages never
    /// come): 10 s, plus the time between two of its messages at a low rate.
    fn idle(&self) -> Duration {
        let gap = self
            .pace
            .rate
            .map_or(0.0, |rate| self.consumers as f64 / rate as f64);
        Duration::from_secs(10) + Duration::from_secs_f64(gap)
    }
}

/// The arguments of the bench queue: it expires [`QUEUE_EXPIRES`] after its last consumer.
fn queue_arguments() -> FieldTable {
    let mut arguments = FieldTable::new();
    let millis = i32::try_from(QUEUE_EXPIRES.as_millis()).unwrap_or(i32::MAX);
    arguments.insert("x-expires".into(), AmqpValue::LongInt(millis));
    arguments
}

/// How the bench queue is declared: a quorum queue, or a durable classic one (RabbitMQ 4.3 and
/// later refuse a transient queue that is not exclusive, and several consumers share this one),
/// expiring either way.
fn queue_options(quorum: bool) -> QueueDeclareOptions {
    let generation = if quorum {
        Generation::Quorum
    } else {
        Generation::Classic
    };
    let mut options = Declared::durable_classic(generation).options();
    for (name, value) in queue_arguments() {
        options.arguments.insert(name, value);
    }
    options
}

/// Runs the benchmark and prints its figures.
pub fn run(
    broker: &Broker,
    config: &Config,
    out: &mut Out<impl std::io::Write>,
) -> Result<Measured, Error> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let queue = format!("rabbit-ops-bench-{}-{nanos:x}", std::process::id());
    let options = queue_options(config.quorum);
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
    let (measured, interrupted) = result?;
    if config.json {
        out.line(format_args!("{}", measured.json()))?;
    } else {
        out.line(format_args!("{}", measured.text(config)))?;
    }
    for warning in [
        measured.rate.warning(),
        measured.capped_warning(MAX_MESSAGES),
    ]
    .into_iter()
    .flatten()
    {
        common::exit::say(&format!("warning: {warning}"));
    }
    if let Some(Interrupted {
        published,
        received,
    }) = interrupted
    {
        let of = match config.length {
            Length::Messages(n) => format!(" of {n}"),
            Length::Duration(_) => String::new(),
        };
        return Err(Error::Interrupted {
            what: format!(
                "bench: {published}{of} messages published, {received} received; queue deleted"
            ),
        });
    }
    if measured.report.lost > 0 {
        return Err(Error::Lost {
            lost: measured.report.lost,
            messages: measured.published,
        });
    }
    Ok(measured)
}

/// How far an interrupted run went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Interrupted {
    published: u64,
    received: u64,
}

fn nanos_since(epoch: Instant, t: Instant) -> u64 {
    u64::try_from(t.saturating_duration_since(epoch).as_nanos()).unwrap_or(u64::MAX)
}

fn measure(
    broker: &Broker,
    config: &Config,
    queue: &str,
    options: &QueueDeclareOptions,
    signal: &Stop,
) -> Result<(Measured, Option<Interrupted>), Error> {
    let (handle, stop) = Stop::manual();
    let ticker =
        common::progress::wanted(config.progress).then(|| Ticker::start("rabbit-ops bench", true));
    let expected = match config.length {
        Length::Messages(n) => Some(n),
        Length::Duration(_) => None,
    };
    let tally = Arc::new(Tally::new(
        config.capacity(),
        expected,
        ticker.as_ref().map(Ticker::live),
        handle,
    ));
    // Each consumer says once that it consumes (or failed to): the producers start after all.
    let (ready_tx, ready_rx) = crossbeam_channel::unbounded::<()>();
    let epoch = Instant::now();
    let ack_every = u64::from((config.prefetch / 4).max(1));
    let result = std::thread::scope(|scope| {
        // SIGINT/SIGTERM: every thread stops; the figures are what was measured so far.
        let (finished_tx, finished) = crossbeam_channel::bounded::<()>(0);
        let watcher = Arc::clone(&tally);
        let watched = signal.clone();
        let _ = std::thread::Builder::new()
            .name("signals".into())
            .spawn_scoped(scope, move || {
                crossbeam_channel::select! {
                    recv(watched.receiver()) -> _ => {
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
        let start = Instant::now();
        let duration = match config.length {
            Length::Duration(d) => Some(d),
            Length::Messages(_) => None,
        };
        let window = Window::new(start, &config.pace, duration);
        tally
            .from_nanos
            .store(nanos_since(epoch, window.from), Ordering::SeqCst);
        let mut producers = Vec::new();
        for p in 0..config.producers {
            if first_error.is_some() {
                break;
            }
            let n = usize::try_from(config.producers).unwrap_or(usize::MAX);
            let k = usize::try_from(p).unwrap_or(usize::MAX);
            let producer = Producer {
                broker,
                config,
                queue,
                options,
                seqs: config.seqs(p),
                epoch,
                schedule: config
                    .pace
                    .rate
                    .map(|rate| Schedule::for_connection(start, rate, k, n)),
                window,
                tally: shared,
                signal,
            };
            let spawned = std::thread::Builder::new()
                .name(format!("producer-{p}"))
                .spawn_scoped(scope, move || produce(producer));
            match spawned {
                Ok(t) => producers.push(t),
                Err(e) => first_error = Some(spawn_failed("producer", p, config.producers, e)),
            }
        }
        if first_error.is_some() {
            // Nothing more will come: let the consumers go.
            tally.release();
        }
        let mut produced = Produced {
            finished_nanos: nanos_since(epoch, start),
            ..Produced::default()
        };
        for (i, p) in producers.into_iter().enumerate() {
            match p
                .join()
                .unwrap_or_else(|panic| joined("producer", i, config.producers, panic))
            {
                Ok(one) => produced.merge(&one),
                Err(e) => {
                    first_error.get_or_insert(e);
                    tally.release();
                }
            }
        }
        tally.all_published(tally.published.load(Ordering::SeqCst));
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
            None => Ok((start, window, produced)),
        }
    });
    drop(ticker);
    let (start, window, produced) = result?;
    Ok(figures(config, &tally, epoch, start, window, &produced))
}

/// The figures of a finished run, from what the producers and consumers counted.
fn figures(
    config: &Config,
    tally: &Tally,
    epoch: Instant,
    start: Instant,
    window: Window,
    produced: &Produced,
) -> (Measured, Option<Interrupted>) {
    let interrupted = tally.interrupted.load(Ordering::Relaxed);
    let published = tally.published.load(Ordering::Relaxed);
    let from = nanos_since(epoch, window.from);
    let per_s = |end: u64| {
        let secs = end.saturating_sub(from) as f64 / 1e9;
        if secs > 0.0 {
            produced.counted as f64 / secs
        } else {
            0.0
        }
    };
    let latency = tally
        .latency
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .summary();
    let counted = tally.counted.load(Ordering::Relaxed);
    let last_counted = tally.last_counted_nanos.load(Ordering::Relaxed);
    let (seconds, lag) = match config.pace.rate {
        // The schedule's window: --duration, or the time --messages take at the rate; a run
        // that delivers its last messages after it is behind by that much.
        Some(rate) => {
            let end = match config.length {
                Length::Duration(_) => window.until.unwrap_or(start),
                Length::Messages(n) => start + Duration::from_secs_f64(n as f64 / rate as f64),
            };
            let drain = Duration::from_nanos(last_counted.saturating_sub(nanos_since(epoch, end)));
            let mut lag = produced.lag;
            lag.merge(Lag {
                last: drain,
                max: drain,
            });
            (end.saturating_duration_since(window.from), lag)
        }
        // Closed-loop: from the end of the warm-up to the last delivery.
        None => (
            Duration::from_nanos(last_counted.saturating_sub(from)),
            Lag::default(),
        ),
    };
    let seconds = seconds.max(Duration::from_micros(1));
    let received = tally.seen.count();
    let report = Report {
        publish_per_s: per_s(produced.finished_nanos),
        consume_per_s: per_s(tally.last_nanos.load(Ordering::Relaxed)),
        p50_ms: latency.service.p50,
        p99_ms: latency.service.p99,
        lost: published.saturating_sub(received),
        duplicates: tally.duplicates.load(Ordering::Relaxed),
    };
    let measured = Measured {
        report,
        published,
        messages: counted,
        seconds: seconds.as_secs_f64(),
        latency,
        rate: RateCheck::new(config.pace.rate, counted, seconds, lag),
        capped: produced.capped && !interrupted,
    };
    let interrupted = interrupted.then(|| Interrupted {
        published,
        received: tally.received.load(Ordering::Relaxed),
    });
    (measured, interrupted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(length: Length, rate: Option<u64>, producers: u64) -> Config {
        Config {
            length,
            size: 100,
            producers,
            consumers: 4,
            persistent: false,
            confirm: false,
            prefetch: 500,
            pace: Pace::new(rate, Some(Duration::from_secs(1))).unwrap(),
            json: false,
            progress: false,
            quorum: false,
        }
    }

    #[test]
    fn producers_share_the_sequence_numbers() {
        let c = config(Length::Messages(10), None, 3);
        let ranges: Vec<_> = (0..3).map(|p| c.seqs(p)).collect();
        assert_eq!(ranges, [0..3, 3..6, 6..10]);
        assert_eq!(c.capacity(), 10);
        // 100/s for 1 s of warm-up and 2 s: 300 due, 100 per producer, and one more each.
        let c = config(Length::Duration(Duration::from_secs(2)), Some(100), 3);
        assert_eq!(c.seqs(1), 101..202);
        assert_eq!(c.capacity(), 303);
        let c = config(Length::Duration(Duration::from_secs(2)), None, 3);
        assert_eq!(c.capacity(), MAX_MESSAGES / 3 * 3);
    }

    #[test]
    fn consumers_wait_longer_at_a_low_rate() {
        let c = config(Length::Messages(10), None, 1);
        assert_eq!(c.idle(), Duration::from_secs(10));
        let c = config(Length::Messages(10), Some(2), 1);
        assert_eq!(c.idle(), Duration::from_secs(12));
    }

    /// RabbitMQ 4.3 refuses a transient queue that is not exclusive (issue 22.8).
    #[test]
    fn the_queue_is_durable_whatever_the_messages() {
        for quorum in [false, true] {
            let o = queue_options(quorum);
            assert!(o.durable && !o.exclusive && !o.auto_delete, "{o:?}");
            assert!(o.arguments.contains_key("x-expires"), "{o:?}");
            assert_eq!(o.arguments.contains_key("x-queue-type"), quorum, "{o:?}");
        }
    }

    #[test]
    fn the_queue_expires() {
        let args = queue_arguments();
        assert_eq!(
            args.get("x-expires"),
            Some(&AmqpValue::LongInt(10_000)),
            "{args:?}"
        );
    }
}
