//! The failed INCRs of a `pool` run (the server went away): counted, backed off, and ended
//! `retry_for` after the server stopped answering. The bound is one for the whole run, shared
//! by every task: whatever the number of tasks and attempts, the run gives up at most
//! `retry_for` after the first failure of an outage (plus the attempt that noticed it, itself
//! bounded by `--timeout`). A failure that retrying cannot mend (the server does not speak
//! RESP, refuses the password or the command) ends the run at once.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use common::retry::Backoff;

use crate::error::Error;

/// A failed attempt, and whether retrying can mend it.
#[derive(Debug)]
pub(super) struct Failure {
    pub(super) error: Error,
    pub(super) permanent: bool,
}

impl Failure {
    /// A failure of `error`, permanent as [`Error::is_permanent`] says.
    pub(super) fn of(error: Error, cause: Option<&redis::RedisError>) -> Self {
        let permanent = error.is_permanent(cause);
        Self { error, permanent }
    }
}

/// When a run began, and ended (`None` while it goes on).
type Span = (Instant, Option<Instant>);

/// Failed INCRs of the three runs, shared by the tasks, and the run's one outage clock; also
/// what the runs did so far (INCRs answered, when each began and ended, the most connections
/// seen), for the figures of a run a signal cuts short.
#[derive(Clone)]
pub(super) struct Failures {
    counts: Arc<[AtomicUsize; 3]>,
    answered: Arc<[AtomicUsize; 3]>,
    spans: Arc<Mutex<[Option<Span>; 3]>>,
    pub(super) peak_connections: Arc<AtomicUsize>,
    first: Arc<Mutex<Option<String>>>,
    /// When the current outage began (the first failure since the last success).
    down_since: Arc<Mutex<Option<Instant>>>,
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
            answered: Arc::new([
                AtomicUsize::new(0),
                AtomicUsize::new(0),
                AtomicUsize::new(0),
            ]),
            spans: Arc::new(Mutex::new([None; 3])),
            peak_connections: Arc::new(AtomicUsize::new(0)),
            first: Arc::new(Mutex::new(None)),
            down_since: Arc::new(Mutex::new(None)),
            retry_for,
        }
    }

    /// What is left of `retry_for` in the current outage (all of it when there is none).
    fn left(&self) -> Duration {
        match *self
            .down_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        {
            Some(since) => self.retry_for.saturating_sub(since.elapsed()),
            None => self.retry_for,
        }
    }

    /// Runs one INCR of run `which`, within what is left of the outage's `retry_for`. A
    /// failure is counted and waited out with the task's backoff; a permanent one, or one
    /// `retry_for` after the outage began, ends the run.
    pub(super) async fn attempt(
        &self,
        which: usize,
        attempt: impl Future<Output = Result<(), Failure>>,
        backoff: &mut Backoff,
    ) -> Result<(), Error> {
        let left = self.left();
        let failure = match tokio::time::timeout(left, attempt).await {
            Ok(Ok(())) => {
                self.answered[which].fetch_add(1, Ordering::Relaxed);
                *self
                    .down_since
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = None;
                backoff.reset();
                return Ok(());
            }
            Ok(Err(f)) => f,
            Err(_) => Failure {
                error: Error::Command {
                    command: "INCRBY".into(),
                    reason: format!("no reply within {}", common::duration::duration(left)),
                },
                permanent: false,
            },
        };
        if failure.permanent {
            return Err(failure.error);
        }
        let e = failure.error;
        self.counts[which].fetch_add(1, Ordering::Relaxed);
        self.first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(|| e.to_string());
        let since = *self
            .down_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(Instant::now);
        let deadline = since + self.retry_for;
        let Some(delay) = backoff.next_delay_until(deadline) else {
            return Err(Error::GaveUp {
                after: self.retry_for,
                last: e.to_string(),
            });
        };
        tokio::time::sleep(delay).await;
        if Instant::now() >= deadline {
            return Err(Error::GaveUp {
                after: self.retry_for,
                last: e.to_string(),
            });
        }
        Ok(())
    }

    /// Run `which` begins (`true`) or ends (`false`) now.
    pub(super) fn mark(&self, which: usize, begins: bool) {
        let now = Instant::now();
        let mut spans = self.spans.lock().unwrap_or_else(PoisonError::into_inner);
        match (&mut spans[which], begins) {
            (span, true) => *span = Some((now, None)),
            (Some((_, end)), false) => *end = Some(now),
            (None, false) => {}
        }
    }

    /// What each run did so far: INCRs answered and how long it ran (`None`: not started).
    pub(super) fn so_far(&self) -> [(usize, Option<Duration>); 3] {
        let spans = *self.spans.lock().unwrap_or_else(PoisonError::into_inner);
        [0, 1, 2].map(|i| {
            let took = spans[i].map(|(begin, end)| end.unwrap_or_else(Instant::now) - begin);
            (self.answered[i].load(Ordering::Relaxed), took)
        })
    }

    pub(super) fn counts(&self) -> [usize; 3] {
        [0, 1, 2].map(|i| self.counts[i].load(Ordering::Relaxed))
    }

    pub(super) fn first(&self) -> Option<String> {
        self.first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
