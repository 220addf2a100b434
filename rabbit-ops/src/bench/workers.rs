//! The threads of a bench: producers and consumers, and how a thread that could not start is
//! reported.

use std::sync::atomic::Ordering;
use std::time::Duration;

use amiquip::{AmqpProperties, QueueDeclareOptions};
use common::schedule::{Lag, Schedule, Window};
use tokio::time::Instant;

use super::body::{Stamp, body, decode};
use super::tally::{Batch, Tally};
use super::{Config, nanos_since};
use crate::broker::{Broker, declare_queue};
use crate::consume::{Consuming, Flow, Limits, recovering};
use crate::error::Error;
use crate::publish::PERSISTENT;
use crate::publish::{Options, Outgoing, Publisher};
use crate::stop::Stop;

/// A thread that panicked: amiquip starts its I/O thread with `thread::spawn`, which panics when
/// the system refuses a thread; that is reported as such (the binary keeps that panic's own
/// message quiet, see `SPAWN_PANIC`). Any other panic goes on.
pub(super) fn joined<T>(
    what: &str,
    i: usize,
    of: u64,
    panic: Box<dyn std::any::Any + Send>,
) -> Result<T, Error> {
    let text = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("");
    match text.strip_prefix(SPAWN_PANIC) {
        Some(cause) => Err(Error::Spawn {
            what: format!("{what} {} of {of}", i + 1),
            cause: std::io::Error::other(cause.trim_start_matches(": ").to_owned()),
        }),
        None => std::panic::resume_unwind(panic),
    }
}

/// How the standard library's `thread::spawn` panics when the system refuses a thread.
pub const SPAWN_PANIC: &str = "failed to spawn thread";

/// A thread that could not be started: an error line, not a panic.
pub(super) fn spawn_failed(what: &str, i: u64, of: u64, e: std::io::Error) -> Error {
    Error::Spawn {
        what: format!("{what} {} of {of}", i + 1),
        cause: e,
    }
}

/// What a producer thread needs.
pub(super) struct Producer<'a> {
    pub(super) broker: &'a Broker,
    pub(super) config: &'a Config,
    pub(super) queue: &'a str,
    pub(super) options: &'a QueueDeclareOptions,
    /// Its sequence numbers.
    pub(super) seqs: std::ops::Range<u64>,
    /// The start of the run: the bodies' times count from it.
    pub(super) epoch: Instant,
    /// Its due times at a fixed rate; `None`: closed-loop.
    pub(super) schedule: Option<Schedule>,
    /// The counted window (after the warm-up) and the end of publishing.
    pub(super) window: Window,
    pub(super) tally: &'a Tally,
    /// SIGINT/SIGTERM, which also ends a wait for the next due time.
    pub(super) signal: &'a Stop,
}

/// What the producers did, merged.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Produced {
    /// Messages due after the warm-up (closed-loop: published after it).
    pub(super) counted: u64,
    /// How far behind its schedule a producer was.
    pub(super) lag: Lag,
    /// When the last producer was done (its connection closed, every confirm in), nanoseconds
    /// since the start of the run.
    pub(super) finished_nanos: u64,
    /// A producer used up its sequence numbers before the end of `--duration`.
    pub(super) capped: bool,
}

impl Produced {
    pub(super) fn merge(&mut self, other: &Produced) {
        self.counted += other.counted;
        self.lag.merge(other.lag);
        self.finished_nanos = self.finished_nanos.max(other.finished_nanos);
        self.capped |= other.capped;
    }
}

/// Waits until `due`; `false` when a signal came first.
fn wait_until(due: Instant, signal: &Stop) -> bool {
    let now = Instant::now();
    due <= now || signal.sleep(due - now)
}

pub(super) fn produce(p: Producer<'_>) -> Result<Produced, Error> {
    let Producer {
        broker,
        config,
        queue,
        options,
        seqs,
        epoch,
        mut schedule,
        window,
        tally,
        signal,
    } = p;
    let publish = Options {
        confirm: config.confirm,
        retry_for: Duration::from_mins(1),
    };
    let mut publisher = Publisher::new(broker, publish, |channel| {
        declare_queue(channel, queue, options.clone(), "queue").map(drop)
    })?;
    let properties = if config.persistent {
        AmqpProperties::default().with_delivery_mode(PERSISTENT)
    } else {
        AmqpProperties::default()
    };
    // At a fixed rate with confirms, one message in flight: the next waits for its confirm.
    let one_in_flight = schedule.is_some() && config.confirm;
    let mut produced = Produced::default();
    let mut published = 0;
    let mut seq = seqs.start;
    loop {
        if seq >= seqs.end {
            produced.capped = schedule.is_none() && window.until.is_some();
            break;
        }
        if tally.interrupted.load(Ordering::Relaxed) {
            break;
        }
        let due = if let Some(schedule) = &mut schedule {
            // The run ends at its end even when the schedule is behind: what was not sent by
            // then shows as a rate not held, never as a longer run.
            let due = schedule.due();
            if window.is_over(due) || window.is_over(Instant::now()) || !wait_until(due, signal) {
                break;
            }
            schedule.next_due()
        } else {
            let now = Instant::now();
            if window.is_over(now) {
                break;
            }
            now
        };
        // Closed-loop, a message is due when it is published: both latencies are the same.
        let sent = if schedule.is_some() {
            Instant::now()
        } else {
            due
        };
        produced.lag.note(due, sent);
        let stamp = Stamp {
            seq: u32::try_from(seq).unwrap_or(u32::MAX),
            late_micros: u32::try_from(sent.saturating_duration_since(due).as_micros())
                .unwrap_or(u32::MAX),
            sent_nanos: nanos_since(epoch, sent),
        };
        publisher.publish(Outgoing::to_queue(
            queue,
            body(stamp, config.size),
            properties.clone(),
        ))?;
        if one_in_flight {
            publisher.settle_all()?;
        }
        published += 1;
        if window.counts(due) {
            produced.counted += 1;
        }
        seq += 1;
    }
    publisher.finish()?;
    tally.published.fetch_add(published, Ordering::SeqCst);
    produced.finished_nanos = nanos_since(epoch, Instant::now());
    Ok(produced)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn consume(
    broker: &Broker,
    config: &Config,
    queue: &str,
    options: &QueueDeclareOptions,
    ack_every: u64,
    epoch: Instant,
    tally: &Tally,
    stop: &Stop,
    ready: &crossbeam_channel::Sender<()>,
) -> Result<(), Error> {
    let mut batch = Batch::new(tally);
    let mut since_ack = 0u64;
    let mut unacked = None;
    let mut waited = false;
    let limits = Limits {
        count: None,
        idle: Some(config.idle()),
    };
    let run = Consuming {
        broker,
        limits,
        stop,
    };
    let result = recovering(
        run,
        |channel| {
            channel
                .qos(0, config.prefetch, false)
                .map_err(|e| Error::amqp("setting the prefetch", e))?;
            declare_queue(channel, queue, options.clone(), "queue")?;
            Ok(queue.to_owned())
        },
        || {
            if !waited {
                waited = true;
                let _ = ready.send(());
            }
            Ok(())
        },
        |consumer, delivery| {
            let now = Instant::now();
            let now_nanos = nanos_since(epoch, now);
            if let Some(stamp) = decode(&delivery.body) {
                let service = now_nanos.saturating_sub(stamp.sent_nanos) / 1000;
                let corrected = service + u64::from(stamp.late_micros);
                let counted = stamp.due_nanos() >= tally.from_nanos.load(Ordering::Relaxed);
                if tally.seen.mark(u64::from(stamp.seq)) {
                    tally.duplicates.fetch_add(1, Ordering::Relaxed);
                } else if counted {
                    tally.counted.fetch_add(1, Ordering::Relaxed);
                    tally
                        .last_counted_nanos
                        .fetch_max(now_nanos, Ordering::Relaxed);
                }
                batch.push(corrected, service, counted, now);
            }
            tally.last_nanos.fetch_max(now_nanos, Ordering::Relaxed);
            since_ack += 1;
            let last = tally.delivered();
            if since_ack >= ack_every || last {
                since_ack = 0;
                unacked = None;
                consumer
                    .ack_multiple(delivery)
                    .map_err(|e| Error::amqp("acknowledging messages", e))?;
            } else {
                unacked = Some(delivery);
            }
            Ok(Flow::Continue)
        },
    );
    drop(unacked);
    drop(batch);
    if !waited {
        // Failed before consuming: do not leave the producers waiting.
        let _ = ready.send(());
    }
    match result {
        Ok(_) | Err(Error::Idle { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_thread_is_an_error_line() {
        let e = spawn_failed("consumer", 37, 400, std::io::Error::other("Resource busy"));
        assert_eq!(
            e.to_string(),
            "cannot start a thread for consumer 38 of 400: Resource busy"
        );
        // amiquip's thread::spawn panics: that panic becomes the same line.
        let panic = std::thread::spawn(|| -> () {
            panic!("{SPAWN_PANIC}: Os {{ code: 11, kind: WouldBlock }}")
        })
        .join()
        .unwrap_err();
        let e = joined::<()>("producer", 0, 2, panic).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot start a thread for producer 1 of 2: Os { code: 11, kind: WouldBlock }"
        );
    }
}
