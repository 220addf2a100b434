//! What the threads of a run share: which messages arrived (one bit each), the counts, the
//! latencies (recorded by each consumer in batches), and when the consumers may stop.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use common::latency::Latency;
use common::progress::Live;
use tokio::time::Instant;

use crate::stop::StopHandle;

/// One bit per sequence number: whether it arrived.
#[derive(Debug)]
pub(super) struct Seen {
    words: Box<[AtomicU64]>,
    len: u64,
}

impl Seen {
    /// Room for sequence numbers `0..len`.
    pub(super) fn new(len: u64) -> Self {
        Self {
            words: (0..len.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
            len,
        }
    }

    /// Notes that `seq` arrived; answers whether it had arrived before (`false` for a number
    /// beyond the run's, which no producer sends).
    pub(super) fn mark(&self, seq: u64) -> bool {
        if seq >= self.len {
            return false;
        }
        let word = usize::try_from(seq / 64).unwrap_or(usize::MAX);
        let bit = 1u64 << (seq % 64);
        self.words
            .get(word)
            .is_some_and(|w| w.fetch_or(bit, Ordering::Relaxed) & bit != 0)
    }

    /// How many different sequence numbers arrived.
    pub(super) fn count(&self) -> u64 {
        self.words
            .iter()
            .map(|w| u64::from(w.load(Ordering::Relaxed).count_ones()))
            .sum()
    }
}

/// What the producers and consumers of a run share.
pub(super) struct Tally {
    pub(super) seen: Seen,
    /// Deliveries, duplicates included.
    pub(super) received: AtomicU64,
    /// Deliveries of messages due after the warm-up, each sequence number once.
    pub(super) counted: AtomicU64,
    /// Messages published (confirmed, with confirms), over all producers, once they are done.
    pub(super) published: AtomicU64,
    /// The deliveries after which the consumers stop: `--messages`, or what the producers
    /// published once they are done (`u64::MAX` until then).
    pub(super) expected: AtomicU64,
    /// SIGINT/SIGTERM: producers stop publishing, consumers stop consuming.
    pub(super) interrupted: AtomicBool,
    pub(super) duplicates: AtomicU64,
    /// The last delivery, in nanoseconds since the start of the run.
    pub(super) last_nanos: AtomicU64,
    /// The last delivery of a counted message, in nanoseconds since the start of the run.
    pub(super) last_counted_nanos: AtomicU64,
    /// When counting starts (the end of the warm-up), in nanoseconds since the start of the
    /// run; set before the producers start.
    pub(super) from_nanos: AtomicU64,
    /// Both latencies of the counted messages.
    pub(super) latency: Mutex<Latency>,
    /// The live line's counters, when it is shown.
    pub(super) live: Option<Arc<Live>>,
    pub(super) done: Mutex<Option<StopHandle>>,
}

impl Tally {
    /// A tally for sequence numbers `0..capacity`; the consumers stop after `expected`
    /// deliveries (or when [`Tally::release`]d).
    pub(super) fn new(
        capacity: u64,
        expected: Option<u64>,
        live: Option<Arc<Live>>,
        done: StopHandle,
    ) -> Self {
        Self {
            seen: Seen::new(capacity),
            received: AtomicU64::new(0),
            counted: AtomicU64::new(0),
            published: AtomicU64::new(0),
            expected: AtomicU64::new(expected.unwrap_or(u64::MAX)),
            interrupted: AtomicBool::new(false),
            duplicates: AtomicU64::new(0),
            last_nanos: AtomicU64::new(0),
            last_counted_nanos: AtomicU64::new(0),
            from_nanos: AtomicU64::new(0),
            latency: Mutex::new(Latency::new()),
            live,
            done: Mutex::new(Some(done)),
        }
    }

    /// Lets the consumers go: every message arrived, or nothing more will come.
    pub(super) fn release(&self) {
        drop(
            self.done
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
    }

    /// One delivery more, `received` in all: lets the consumers go when it is the last one.
    pub(super) fn delivered(&self) -> bool {
        let received = self.received.fetch_add(1, Ordering::SeqCst) + 1;
        let last = received >= self.expected.load(Ordering::SeqCst);
        if last {
            self.release();
        }
        last
    }

    /// The producers are done, having published `published` messages: the consumers stop once
    /// that many arrived (at once if they already did).
    pub(super) fn all_published(&self, published: u64) {
        self.expected.store(published, Ordering::SeqCst);
        if self.received.load(Ordering::SeqCst) >= published {
            self.release();
        }
    }
}

/// Latencies kept by a consumer before they go into the shared histograms and the live line.
const BATCH: usize = 256;

/// The longest a consumer keeps its latencies (the live line's figures are at most that late).
const BATCH_AGE: Duration = Duration::from_millis(100);

/// A consumer's latest deliveries (corrected and service latency in microseconds, and whether
/// the message counts: due after the warm-up), flushed into the shared [`Tally::latency`] and
/// the live line every [`BATCH`] messages or [`BATCH_AGE`], and when dropped: one pair of
/// histograms per consumer would take hundreds of KiB each.
pub(super) struct Batch<'a> {
    tally: &'a Tally,
    latencies: Vec<(u64, u64, bool)>,
    since: Instant,
}

impl<'a> Batch<'a> {
    pub(super) fn new(tally: &'a Tally) -> Self {
        Self {
            tally,
            latencies: Vec::with_capacity(BATCH),
            since: Instant::now(),
        }
    }

    /// One delivery, at `now`: its latencies go to the histograms if it `counted`, to the live
    /// line in any case.
    pub(super) fn push(&mut self, corrected: u64, service: u64, counted: bool, now: Instant) {
        self.latencies.push((corrected, service, counted));
        if self.latencies.len() >= BATCH || now - self.since >= BATCH_AGE {
            self.flush();
            self.since = now;
        }
    }

    fn flush(&mut self) {
        if self.latencies.is_empty() {
            return;
        }
        let mut latency = self
            .tally
            .latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for &(corrected, service, counted) in &self.latencies {
            if counted {
                latency.record_micros(corrected, service);
            }
        }
        drop(latency);
        if let Some(live) = &self.tally.live {
            let corrected: Vec<u64> = self.latencies.iter().map(|&(c, ..)| c).collect();
            live.ops(&corrected);
        }
        self.latencies.clear();
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stop::Stop;

    #[test]
    fn seen_counts_each_number_once() {
        let seen = Seen::new(130);
        assert!(!seen.mark(0));
        assert!(!seen.mark(129));
        assert!(seen.mark(129), "a second delivery");
        assert!(!seen.mark(130), "beyond the run: ignored");
        assert!(!seen.mark(u64::MAX));
        assert_eq!(seen.count(), 2);
        assert_eq!(Seen::new(0).count(), 0);
    }

    #[test]
    fn consumers_stop_after_what_was_published() {
        let (handle, stop) = Stop::manual();
        let tally = Tally::new(10, None, None, handle);
        assert!(!tally.delivered());
        assert!(!tally.delivered());
        assert!(!stop.requested());
        // Two published: both already arrived.
        tally.all_published(2);
        assert!(stop.requested());

        let (handle, stop) = Stop::manual();
        let tally = Tally::new(10, Some(2), None, handle);
        assert!(!tally.delivered());
        assert!(tally.delivered());
        assert!(stop.requested());
    }

    #[test]
    fn batches_reach_the_histograms_when_dropped() {
        let (handle, _stop) = Stop::manual();
        let tally = Tally::new(1, None, None, handle);
        let mut batch = Batch::new(&tally);
        batch.push(1500, 500, true, batch.since);
        batch.push(9000, 900, false, batch.since);
        assert_eq!(tally.latency.lock().unwrap().count(), 0);
        drop(batch);
        let summary = tally.latency.lock().unwrap().summary();
        assert_eq!((summary.corrected.max, summary.service.max), (1.5, 0.5));
    }
}
