//! The failed INCRs of a `pool` run (the server went away): counted, backed off, and ended
//! after `retry_for` of failures in a row.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::retry::Backoff;

use crate::error::Error;

/// Failed INCRs of the three runs, shared by the tasks.
#[derive(Clone)]
pub(super) struct Failures {
    counts: Arc<[AtomicUsize; 3]>,
    first: Arc<std::sync::Mutex<Option<String>>>,
    retry_for: Duration,
}

impl Failures {
    pub(super) fn new(retry_for: Duration) -> Self {
        Self {
            counts: Arc::new([
                AtomicUsize::new(0),
                AtomicUsize::new(0),
                AtomicUsize::new(0),
            ]),
            first: Arc::new(std::sync::Mutex::new(None)),
            retry_for,
        }
    }

    /// Counts a failed INCR of run `which` and waits the task's backoff; after failing for
    /// longer than `retry_for` in a row, the error ends the run.
    pub(super) async fn outcome(
        &self,
        which: usize,
        result: Result<(), Error>,
        streak: &mut Streak,
    ) -> Result<(), Error> {
        let Err(e) = result else {
            streak.since = None;
            streak.backoff.reset();
            return Ok(());
        };
        if matches!(e, Error::BadUrl { .. } | Error::Usage(_)) {
            return Err(e);
        }
        self.counts[which].fetch_add(1, Ordering::Relaxed);
        self.first
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_or_insert_with(|| e.to_string());
        if streak.since.get_or_insert_with(Instant::now).elapsed() >= self.retry_for {
            return Err(e);
        }
        tokio::time::sleep(streak.backoff.next_delay()).await;
        Ok(())
    }

    pub(super) fn counts(&self) -> [usize; 3] {
        [0, 1, 2].map(|i| self.counts[i].load(Ordering::Relaxed))
    }

    pub(super) fn first(&self) -> Option<String> {
        self.first
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// One task's failures in a row: since when, and the backoff between them.
pub(super) struct Streak {
    since: Option<Instant>,
    backoff: Backoff,
}

impl Default for Streak {
    fn default() -> Self {
        Self {
            since: None,
            backoff: crate::connect::backoff(),
        }
    }
}
