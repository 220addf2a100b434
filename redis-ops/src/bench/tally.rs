//! The tally of one test: what its connections share while they run (one thread: `Cell`s, no
//! locks), turned into a [`TestReport`] at the end; and the pace every connection keeps
//! ([`Shared::next`]: closed-loop, or on its schedule at a fixed rate).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use common::latency::{Latency, micros};
use common::progress::Live;
use common::schedule::{Lag, RateCheck, Schedule, Window};
use tokio::time::Instant;

use super::{BenchOptions, Test, TestReport};
use crate::error::Error;

/// The longest a connection sleeps before it looks at the stop flag again (a signal while it
/// waits for its next due time at a low rate).
const STOP_POLL: Duration = Duration::from_millis(50);

/// Corrected latencies kept for the live line before they go to it (one lock per batch)...
const LIVE_BATCH: usize = 256;

/// ... or for this long, however few.
const LIVE_AGE: Duration = Duration::from_millis(100);

/// A batch a connection may send: `k` commands due at `due` (all of them when their batch is),
/// `counted` unless it is part of the warm-up.
#[derive(Debug, Clone, Copy)]
pub(super) struct Turn {
    pub(super) k: u64,
    pub(super) due: Instant,
    pub(super) counted: bool,
}

/// What the connections of one test share (one thread: `Cell`s, no locks).
pub(super) struct Shared {
    /// Set by a signal: no new batch starts (the batches in flight finish, within the timeout).
    pub(super) stop: Rc<Cell<bool>>,
    /// Requests left to send (`-n`); `None` with `--duration`.
    pub(super) remaining: Cell<Option<u64>>,
    pub(super) pipeline: u64,
    /// `--rate`, operations per second in all.
    pub(super) rate: Option<u64>,
    /// When the test's clock started (its connections open).
    start: Instant,
    /// The counted window: after the warm-up, until the end of `--duration`.
    pub(super) window: Window,
    pub(super) ok: Cell<u64>,
    /// Requests answered as expected during the warm-up (not in the figures).
    pub(super) warm_ok: Cell<u64>,
    pub(super) errors: Cell<u64>,
    pub(super) unsent: Cell<u64>,
    pub(super) reconnects: Cell<u64>,
    pub(super) first_error: RefCell<Option<String>>,
    pub(super) fatal: RefCell<Option<Error>>,
    pub(super) latency: RefCell<Latency>,
    /// How far behind its schedule the test ran (fixed rate only).
    pub(super) lag: Cell<Lag>,
    /// When the last counted batch went out.
    pub(super) last_sent: Cell<Option<Instant>>,
    live: Option<Arc<Live>>,
    live_batch: RefCell<Vec<u64>>,
    live_since: Cell<Instant>,
}

impl Shared {
    /// A test starting at `start` (its clock: the connections are open).
    pub(super) fn new(
        o: &BenchOptions,
        stop: Rc<Cell<bool>>,
        start: Instant,
        live: Option<Arc<Live>>,
    ) -> Self {
        Self {
            stop,
            remaining: Cell::new(o.duration.is_none().then_some(o.requests)),
            pipeline: o.pipeline as u64,
            rate: o.pace.rate,
            start,
            window: Window::new(start, &o.pace, o.duration),
            ok: Cell::new(0),
            warm_ok: Cell::new(0),
            errors: Cell::new(0),
            unsent: Cell::new(0),
            reconnects: Cell::new(0),
            first_error: RefCell::new(None),
            fatal: RefCell::new(None),
            latency: RefCell::new(Latency::new()),
            lag: Cell::new(Lag::default()),
            last_sent: Cell::new(None),
            live_batch: RefCell::new(Vec::with_capacity(if live.is_some() {
                LIVE_BATCH
            } else {
                0
            })),
            live,
            live_since: Cell::new(start),
        }
    }

    /// Connection `n` of `clients`'s schedule at a fixed rate (`None`: closed-loop). With `-P`,
    /// a connection sends its commands `-P` at a time: one batch every `clients x P / rate`
    /// seconds, the connections staggered, so that the commands of all of them together go out
    /// at `rate` per second; each command of a batch is due when its batch is.
    pub(super) fn schedule(&self, n: usize, clients: usize) -> Option<Schedule> {
        let p = self.pipeline as usize;
        self.rate
            .map(|rate| Schedule::for_connection(self.start, rate, n * p, clients * p))
    }

    /// Waits for this connection's next batch (at once closed-loop, at its due time at a fixed
    /// rate, at once when late) and takes it: `None` when the test is done (the count is sent,
    /// the duration is over, a signal came, or the server refused the run).
    pub(super) async fn next(&self, schedule: &mut Option<Schedule>) -> Option<Turn> {
        let due = match schedule {
            None => Instant::now(),
            Some(s) => {
                // The run ends at its end even when the schedule is behind: what was not sent
                // by then shows as a rate not held, never as a longer run.
                if self.window.is_over(s.due()) || self.window.is_over(Instant::now()) {
                    return None;
                }
                let due = s.next_due();
                // In slices: a signal is seen within STOP_POLL, however low the rate.
                while Instant::now() < due {
                    if self.done() {
                        return None;
                    }
                    tokio::time::sleep_until(due.min(Instant::now() + STOP_POLL)).await;
                }
                due
            }
        };
        if self.done() || self.window.is_over(due) {
            return None;
        }
        let counted = self.window.counts(due);
        let k = match self.remaining.get() {
            Some(left) if counted => {
                let k = left.min(self.pipeline);
                self.remaining.set(Some(left - k));
                k
            }
            _ => self.pipeline,
        };
        (k > 0).then_some(Turn { k, due, counted })
    }

    fn done(&self) -> bool {
        self.fatal.borrow().is_some() || self.stop.get()
    }

    /// A batch about to be written at `sent`: its lateness, and the end of the counted sends.
    pub(super) fn sending(&self, turn: &Turn, sent: Instant) {
        if self.rate.is_some() {
            let mut lag = self.lag.get();
            lag.note(turn.due, sent);
            self.lag.set(lag);
        }
        if turn.counted {
            self.last_sent.set(Some(sent));
        }
    }

    /// `n` commands answered as expected (counted in the figures, or in the warm-up's).
    pub(super) fn good(&self, turn: &Turn, n: u64) {
        let c = if turn.counted {
            &self.ok
        } else {
            &self.warm_ok
        };
        c.set(c.get() + n);
    }

    /// `n` commands of a batch sent at `sent` completed at `done`: their latencies.
    pub(super) fn answered(&self, turn: &Turn, n: u64, sent: Instant, done: Instant) {
        if !turn.counted {
            return;
        }
        let corrected = micros(done.saturating_duration_since(turn.due));
        let service = micros(done.saturating_duration_since(sent));
        {
            let mut l = self.latency.borrow_mut();
            // Values within the histograms' range (micros clamps): recording cannot fail.
            let _ = l.corrected.record_n(corrected, n);
            let _ = l.service.record_n(service, n);
        }
        if let Some(live) = &self.live {
            let mut batch = self.live_batch.borrow_mut();
            batch.extend(std::iter::repeat_n(corrected, n as usize));
            if batch.len() >= LIVE_BATCH || done - self.live_since.get() >= LIVE_AGE {
                live.ops(&batch);
                batch.clear();
                self.live_since.set(done);
            }
        }
    }

    pub(super) fn fail(&self, n: u64, why: impl FnOnce() -> String) {
        self.errors.set(self.errors.get() + n);
        if let Some(live) = &self.live {
            live.error();
        }
        let mut first = self.first_error.borrow_mut();
        if first.is_none() {
            // A peer may echo a secret in its words: hidden by value.
            *first = Some(common::redact::redact_all(&why()));
        }
    }

    /// The report of the test, whose last reply came at `end`.
    pub(super) fn report(&self, test: Test, end: Instant) -> TestReport {
        if let Some(live) = &self.live {
            live.ops(&self.live_batch.borrow());
        }
        let latency = self.latency.borrow().clone();
        let from = self.window.from;
        // The counted time: the duration asked for (or up to a signal); at a fixed rate with a
        // count, up to the last send plus one batch interval (the time the count takes on
        // schedule, longer when the sends fell behind); closed-loop, up to the last reply.
        let elapsed = match (self.window.until, self.rate, self.last_sent.get()) {
            (Some(until), _, _) => end.min(until).saturating_duration_since(from),
            (None, Some(rate), Some(last)) => {
                last.saturating_duration_since(from)
                    + Duration::from_secs_f64(self.pipeline as f64 / rate as f64)
            }
            _ => end.saturating_duration_since(from),
        }
        .max(Duration::from_micros(1));
        TestReport {
            test,
            ok: self.ok.get(),
            errors: self.errors.get(),
            unsent: self.unsent.get() + self.remaining.get().unwrap_or(0),
            reconnects: self.reconnects.get(),
            first_error: self.first_error.borrow().clone(),
            elapsed,
            rate: RateCheck::new(self.rate, self.ok.get(), elapsed, self.lag.get()),
            latency,
        }
    }
}
