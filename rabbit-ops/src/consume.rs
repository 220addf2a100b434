//! The loop every consuming command shares: deliveries until `--count` messages, `--timeout`
//! seconds of silence, or Ctrl-C, whichever comes first.
//!
//! amiquip hands deliveries over a crossbeam channel; the Ctrl-C handler (a plain thread, from
//! `common::shutdown::on_signal`) drops the sender of another channel, and one `select!` waits
//! on both and on the idle timer. No polling, no async runtime.
//!
//! [`recovering`] wraps that loop for the long-running consumers: when the connection goes away
//! (broker restarted, node stopped, socket closed), it reconnects through
//! [`Broker::reconnect`], declares its queue and bindings again (a server-named exclusive queue
//! is a new one, bound again), consumes again, and goes on counting where it was. Deliveries
//! that were not acknowledged on the lost connection go back to their queue: the broker
//! delivers them again (at least once, so a task may be done twice; never lost).

use std::time::{Duration, Instant};

use amiquip::{Channel, Consumer, ConsumerMessage, ConsumerOptions, Delivery};
use crossbeam_channel::{Receiver, Sender, TryRecvError, at, never, select};
use tracing::debug;

use crate::broker::{Broker, Reconnected, Session};
use crate::error::Error;

/// The stop request: Ctrl-C/SIGTERM in the binary, a handle in tests.
///
/// Stopping drops the sender, so every clone of the receiver sees it, forever.
#[derive(Debug, Clone)]
pub struct Stop {
    rx: Receiver<()>,
    // Keeps the channel open for [`Stop::never`].
    _keep: Option<Sender<()>>,
}

/// Stops the [`Stop`] it was made with when dropped or [`StopHandle::stop`]ped.
#[derive(Debug)]
pub struct StopHandle(Sender<()>);

impl StopHandle {
    /// Asks the loops to stop.
    pub fn stop(self) {
        drop(self.0);
    }
}

impl Stop {
    /// Stops on the first SIGINT (Ctrl-C) or SIGTERM; the handlers are installed now.
    pub fn on_signal() -> Result<Self, Error> {
        let (handle, stop) = Self::manual();
        common::shutdown::on_signal(move |signal| {
            debug!("{signal:?}: stopping");
            handle.stop();
        })
        .map_err(Error::Signal)?;
        Ok(stop)
    }

    /// Never stops (for one-shot commands).
    pub fn never() -> Self {
        let (tx, rx) = crossbeam_channel::bounded(0);
        Self {
            rx,
            _keep: Some(tx),
        }
    }

    /// A stop request and the handle that makes it.
    pub fn manual() -> (StopHandle, Self) {
        let (tx, rx) = crossbeam_channel::bounded(0);
        (StopHandle(tx), Self { rx, _keep: None })
    }

    /// Whether a stop was requested.
    pub fn requested(&self) -> bool {
        matches!(self.rx.try_recv(), Err(TryRecvError::Disconnected))
    }

    /// Ready (disconnected) once a stop was requested: for `select!`.
    pub fn receiver(&self) -> &Receiver<()> {
        &self.rx
    }

    /// Sleeps for `d` unless a stop is requested first; returns whether it slept the whole time.
    pub fn sleep(&self, d: Duration) -> bool {
        matches!(
            self.rx.recv_timeout(d),
            Err(crossbeam_channel::RecvTimeoutError::Timeout)
        )
    }
}

/// `--count` and `--timeout`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Exit 0 after this many messages.
    pub count: Option<u64>,
    /// Exit 1 when nothing arrives for this long.
    pub idle: Option<Duration>,
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
/// then cancels the consumer (messages delivered but not acknowledged go back to the queue when
/// the channel closes).
pub fn consume(
    consumer: Consumer<'_>,
    queue: &str,
    limits: Limits,
    stop: &Stop,
    mut handle: impl FnMut(&Consumer<'_>, Delivery) -> Result<Flow, Error>,
) -> Result<Ended, Error> {
    let mut progress = Progress::new();
    let ended = deliveries(&consumer, queue, limits, stop, &mut progress, &mut handle)?;
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
    broker: &Broker,
    limits: Limits,
    stop: &Stop,
    mut setup: impl FnMut(&Channel) -> Result<String, Error>,
    mut ready: impl FnMut() -> Result<(), Error>,
    mut handle: impl FnMut(&Consumer<'_>, Delivery) -> Result<Flow, Error>,
) -> Result<Ended, Error> {
    let mut session = broker.session()?;
    let mut progress = Progress::new();
    let mut first = true;
    loop {
        let outcome: Result<Ended, Error> = (|| {
            let queue = setup(&session.channel)?;
            let consumer = session
                .channel
                .basic_consume(queue.as_str(), ConsumerOptions::default())
                .map_err(|e| Error::amqp(format!("consuming from queue '{queue}'"), e))?;
            if first {
                first = false;
                ready()?;
            }
            let ended = deliveries(&consumer, &queue, limits, stop, &mut progress, &mut handle)?;
            cancel(consumer)?;
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
                    Reconnected::Connected(c) => Session::open(c)?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn stop_reaches_every_clone_and_interrupts_sleep() {
        let (handle, stop) = Stop::manual();
        let clone = stop.clone();
        assert!(!stop.requested());
        assert!(stop.sleep(Duration::from_millis(10)));
        let t = std::thread::spawn(move || {
            let start = Instant::now();
            let slept = clone.sleep(Duration::from_secs(30));
            (slept, start.elapsed())
        });
        std::thread::sleep(Duration::from_millis(50));
        handle.stop();
        let (slept, took) = t.join().unwrap();
        assert!(!slept);
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert!(stop.requested());
        assert!(stop.requested(), "a stop stays requested");
    }

    #[test]
    fn never_never_stops() {
        let stop = Stop::never();
        assert!(!stop.requested());
        assert!(stop.sleep(Duration::from_millis(1)));
    }
}
