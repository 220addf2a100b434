//! The loop every consuming command shares: deliveries until `--count` messages, `--timeout`
//! seconds of silence, or Ctrl-C, whichever comes first.
//!
//! amiquip hands deliveries over a crossbeam channel; the Ctrl-C handler (a plain thread, from
//! `common::shutdown::on_signal`) drops the sender of another channel ([`Stop`]), and one
//! `select!` waits on both and on the idle timer. No polling, no async runtime.
//!
//! [`recovering`] wraps that loop for the long-running consumers: when the connection goes away
//! (broker restarted, node stopped, socket closed), it reconnects through
//! [`Broker::reconnect`], declares its queue and bindings again (a server-named exclusive queue
//! is a new one, bound again), consumes again, and goes on counting where it was. Deliveries
//! that were not acknowledged on the lost connection go back to their queue: the broker
//! delivers them again (at least once, so a task may be done twice; never lost).

use std::cell::RefCell;
use std::io::Write;
use std::time::{Duration, Instant};

use amiquip::{Channel, Consumer, ConsumerMessage, ConsumerOptions, Delivery};
use common::output::Out;
use crossbeam_channel::{at, never, select};

use crate::broker::{Broker, Reconnected};
use crate::error::Error;
use crate::stop::Stop;

/// `--count` and `--timeout`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Exit 0 after this many messages.
    pub count: Option<u64>,
    /// Exit 1 when nothing arrives for this long.
    pub idle: Option<Duration>,
}

/// What every consuming command runs with: the broker, its `--count`/`--timeout`, and Ctrl-C.
#[derive(Debug, Clone, Copy)]
pub struct Consuming<'a> {
    /// Where to (re)connect.
    pub broker: &'a Broker,
    /// `--count` and `--timeout`.
    pub limits: Limits,
    /// Ctrl-C (SIGINT/SIGTERM).
    pub stop: &'a Stop,
}

/// What a message handler wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// The message was handled; go on.
    Continue,
    /// A stop was requested while handling it (the message was not acknowledged).
    Stop,
}

/// Why the loop ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `--count` messages were handled.
    Count(u64),
    /// Ctrl-C (or the consumer was cancelled by us) after this many messages.
    Stopped(u64),
}

/// Runs `handle` on each delivery of `consumer` (of queue `queue`) until the limits or a stop,
/// then cancels the consumer; on an error, `give_up` runs first (`Session::reap`: the
/// consumer's cancel on drop then waits for a stalled broker a moment only) (messages delivered but not acknowledged go back to the queue when
/// the channel closes).
pub fn consume(
    consumer: Consumer<'_>,
    queue: &str,
    limits: Limits,
    stop: &Stop,
    give_up: impl FnOnce(),
    mut handle: impl FnMut(&Consumer<'_>, Delivery) -> Result<Flow, Error>,
) -> Result<Ended, Error> {
    let mut progress = Progress::new();
    let ended = deliveries(&consumer, queue, limits, stop, &mut progress, &mut handle);
    if ended.is_err() {
        give_up();
    }
    let ended = ended?;
    cancel(consumer)?;
    Ok(ended)
}

/// Messages handled so far and when the last one was (for `--timeout`), kept across
/// reconnections.
#[derive(Debug, Clone, Copy)]
struct Progress {
    handled: u64,
    last: Instant,
}

impl Progress {
    fn new() -> Self {
        Self {
            handled: 0,
            last: Instant::now(),
        }
    }
}

/// A consumer that survives the loss of its connection (see the module documentation).
///
/// On each connection, `setup` declares what it needs on the channel (queue, exchange,
/// bindings, prefetch) and returns the name of the queue to consume from; `ready` runs once,
/// after the first successful setup (it prints the Waiting line); `handle` gets each delivery.
/// The first connection fails fast (an unreachable broker is an error, as for every command);
/// later ones are retried until a stop, or until `--timeout` of silence (then
/// [`Error::Idle`]).
pub fn recovering(
    run: Consuming<'_>,
    mut setup: impl FnMut(&Channel) -> Result<String, Error>,
    mut ready: impl FnMut() -> Result<(), Error>,
    mut handle: impl FnMut(&Consumer<'_>, Delivery) -> Result<Flow, Error>,
) -> Result<Ended, Error> {
    let Consuming {
        broker,
        limits,
        stop,
    } = run;
    let mut session = broker.session()?;
    let mut progress = Progress::new();
    let mut first = true;
    loop {
        let outcome: Result<Ended, Error> = (|| {
            let (queue, consumer) = session.within("setting up the consumer", || {
                let queue = setup(&session.channel)?;
                let consumer = session
                    .channel
                    .basic_consume(queue.as_str(), ConsumerOptions::default())
                    .map_err(|e| Error::amqp(format!("consuming from queue '{queue}'"), e))?;
                Ok((queue, consumer))
            })?;
            if first {
                first = false;
                ready()?;
            }
            let ended = deliveries(&consumer, &queue, limits, stop, &mut progress, &mut handle);
            if ended.is_err() {
                // Giving up: the consumer's cancel on drop waits for the broker a moment only.
                session.reap();
            }
            let ended = ended?;
            session.within("cancelling the consumer", || cancel(consumer))?;
            Ok(ended)
        })();
        match outcome {
            Ok(ended) => {
                session.close()?;
                return Ok(ended);
            }
            Err(e) if e.is_connection_loss() && !stop.requested() => {
                drop(session);
                let give_up = limits.idle.map(|idle| progress.last + idle);
                session = match broker.reconnect(&e, stop, give_up) {
                    Reconnected::Connected(s) => *s,
                    Reconnected::Stopped => return Ok(Ended::Stopped(progress.handled)),
                    Reconnected::GaveUp(_) => {
                        return Err(Error::Idle {
                            waited: limits.idle.unwrap_or_default(),
                            received: progress.handled,
                        });
                    }
                };
            }
            Err(e) if e.is_connection_loss() => return Ok(Ended::Stopped(progress.handled)),
            Err(e) => return Err(e),
        }
    }
}

/// A [`recovering`] consumer that prints: `waiting` once its queue is ready, then whatever
/// `handle` prints for each delivery. A closed stdout ends it (quietly, in the binary) before
/// the delivery it could not print is acknowledged.
pub fn printing<W: Write>(
    run: Consuming<'_>,
    out: &mut Out<W>,
    waiting: &str,
    setup: impl FnMut(&Channel) -> Result<String, Error>,
    mut handle: impl FnMut(&mut Out<W>, &Consumer<'_>, Delivery) -> Result<Flow, Error>,
) -> Result<Ended, Error> {
    let out = RefCell::new(out);
    recovering(
        run,
        setup,
        || Ok(out.borrow_mut().line(format_args!("{waiting}"))?),
        |consumer, delivery| handle(&mut out.borrow_mut(), consumer, delivery),
    )
}

/// A delivery that came before and goes again: the broker's `redelivered` flag, and the
/// `x-delivery-count` header a quorum queue adds (a classic queue keeps no count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redelivery {
    /// `x-delivery-count`, when the queue keeps it.
    pub count: Option<u64>,
}

impl Redelivery {
    /// `None` for a first delivery.
    pub fn of(delivery: &Delivery) -> Option<Self> {
        use amiquip::AmqpValue as V;
        if !delivery.redelivered {
            return None;
        }
        let count = delivery
            .properties
            .headers()
            .as_ref()
            .and_then(|h| h.get("x-delivery-count"))
            .and_then(|v| match *v {
                V::ShortShortInt(n) => u64::try_from(n).ok(),
                V::ShortShortUInt(n) => Some(u64::from(n)),
                V::ShortInt(n) => u64::try_from(n).ok(),
                V::ShortUInt(n) => Some(u64::from(n)),
                V::LongInt(n) => u64::try_from(n).ok(),
                V::LongUInt(n) => Some(u64::from(n)),
                V::LongLongInt(n) => u64::try_from(n).ok(),
                _ => None,
            });
        Some(Self { count })
    }
}

/// Acknowledges a delivery that was handled (its line printed): the end of most handlers.
pub fn ack(consumer: &Consumer<'_>, delivery: Delivery) -> Result<Flow, Error> {
    consumer
        .ack(delivery)
        .map_err(|e| Error::amqp("acknowledging a message", e))?;
    Ok(Flow::Continue)
}

/// Cancels a consumer and waits for the cancellation to come back to it.
///
/// amiquip answers `cancel()` first and hands `ClientCancelled` to the consumer's receiver
/// right after; if the receiver is gone by then (the consumer was simply dropped), its I/O
/// thread treats that as a fatal error and tears the whole connection down. So the receiver
/// stays alive until the cancellation arrives.
pub fn cancel(consumer: Consumer<'_>) -> Result<(), Error> {
    consumer
        .cancel()
        .map_err(|e| Error::amqp("cancelling the consumer", e))?;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    // A delivery that crossed the cancel is never acknowledged, so the broker keeps it.
    while let Ok(ConsumerMessage::Delivery(_)) = consumer.receiver().recv_deadline(deadline) {}
    drop(consumer);
    Ok(())
}

fn deliveries(
    consumer: &Consumer<'_>,
    queue: &str,
    limits: Limits,
    stop: &Stop,
    progress: &mut Progress,
    handle: &mut impl FnMut(&Consumer<'_>, Delivery) -> Result<Flow, Error>,
) -> Result<Ended, Error> {
    loop {
        let handled = progress.handled;
        if limits.count.is_some_and(|c| handled >= c) {
            return Ok(Ended::Count(handled));
        }
        let idle = limits.idle.map_or_else(never, |i| at(progress.last + i));
        select! {
            recv(consumer.receiver()) -> message => match message {
                Ok(ConsumerMessage::Delivery(delivery)) => {
                    if handle(consumer, delivery)? == Flow::Stop {
                        return Ok(Ended::Stopped(handled));
                    }
                    progress.handled += 1;
                    progress.last = Instant::now();
                }
                Ok(ConsumerMessage::ServerClosedChannel(e)
                    | ConsumerMessage::ServerClosedConnection(e)) => {
                    return Err(Error::amqp(format!("consuming from queue '{queue}'"), e));
                }
                Ok(ConsumerMessage::ServerCancelled) => {
                    return Err(Error::Cancelled { queue: queue.to_owned() });
                }
                Ok(ConsumerMessage::ClientCancelled
                    | ConsumerMessage::ClientClosedChannel
                    | ConsumerMessage::ClientClosedConnection) => {
                    return Ok(Ended::Stopped(handled));
                }
                Err(_) => return Err(Error::ConnectionLost),
            },
            recv(stop.receiver()) -> _ => return Ok(Ended::Stopped(handled)),
            recv(idle) -> _ => {
                return Err(Error::Idle {
                    waited: limits.idle.unwrap_or_default(),
                    received: handled,
                });
            }
        }
    }
}
