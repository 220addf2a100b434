//! The threads of a bench: producers and consumers, and how a thread that could not start is
//! reported.

use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use amiquip::{AmqpProperties, QueueDeclareOptions};

use super::{Config, Tally, body, decode, histogram, since};
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

pub(super) fn produce(
    broker: &Broker,
    config: &Config,
    queue: &str,
    options: &QueueDeclareOptions,
    seqs: std::ops::Range<u64>,
    epoch: Instant,
    tally: &Tally,
) -> Result<u64, Error> {
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
    let mut published = 0;
    for seq in seqs {
        if tally.interrupted.load(Ordering::Relaxed) {
            break;
        }
        published += 1;
        let body = body(seq, since(epoch), config.size);
        publisher.publish(Outgoing::to_queue(queue, body, properties.clone()))?;
    }
    publisher.finish()?;
    tally.published.fetch_add(published, Ordering::Relaxed);
    Ok(since(epoch))
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
    let mut local = histogram();
    let mut since_ack = 0u64;
    let mut unacked = None;
    let mut waited = false;
    let limits = Limits {
        count: None,
        idle: Some(Duration::from_secs(10)),
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
            let now = since(epoch);
            if let Some((seq, sent)) = decode(&delivery.body) {
                let micros = now.saturating_sub(sent) / 1000;
                let _ = local.record(micros.max(1));
                let slot = usize::try_from(seq).ok().and_then(|i| tally.seen.get(i));
                if slot.is_some_and(|s| s.swap(true, Ordering::Relaxed)) {
                    tally.duplicates.fetch_add(1, Ordering::Relaxed);
                }
            }
            tally.last_nanos.fetch_max(now, Ordering::Relaxed);
            since_ack += 1;
            let total = tally.received.fetch_add(1, Ordering::Relaxed) + 1;
            let last = total >= config.messages;
            if since_ack >= ack_every || last {
                since_ack = 0;
                unacked = None;
                consumer
                    .ack_multiple(delivery)
                    .map_err(|e| Error::amqp("acknowledging messages", e))?;
            } else {
                unacked = Some(delivery);
            }
            if last {
                tally.release();
            }
            Ok(Flow::Continue)
        },
    );
    drop(unacked);
    if !waited {
        // Failed before consuming: do not leave the producers waiting.
        let _ = ready.send(());
    }
    let _ = tally
        .latency
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .add(&local);
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
