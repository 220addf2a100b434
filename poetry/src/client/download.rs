//! Every address at once: at most `concurrency` downloads held, each settled download handed on
//! in the addresses' order as soon as the ones before it are settled; each download optionally a
//! readiness check ([`Checks`]) and followed by a transform. A download holds its place from its
//! start until the [`Settled`] handed on is dropped (printed): the poems in memory are never
//! more than `concurrency`, downloading, waiting for the ones before them, or on their way out,
//! whatever the number of addresses and however slow the reader of the poems. A stop (SIGINT or
//! SIGTERM, through [`Options::stop`]) settles every download not finished yet as interrupted:
//! the poems already whole are still handed on, in order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::probe::{Outcome, Refusal};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::check::{self, Checks};
use super::fetch::{FetchError, get_poem};
use crate::transform::{self, Transform, TransformError};

/// How to download.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bounds each connection and each wait for bytes.
    pub timeout: Duration,
    /// The largest poem accepted, in bytes: a server that sends more fails that download.
    pub max_poem_size: usize,
    /// Downloads held at once: in progress, or settled and not yet dropped by the one they were
    /// handed to (so memory stays under `concurrency` x `max_poem_size`).
    pub concurrency: usize,
    /// A transformation service to cummingsify every poem through (the original poem is kept
    /// when that fails).
    pub transform: Option<SocketAddr>,
    /// Each download as a readiness check (`--wait`, `--json`); `None`: plain downloads.
    pub checks: Option<Checks>,
    /// Cancelled (by a signal) to stop: downloads in progress are dropped, the ones not begun
    /// are not begun, both settle as interrupted; a check's waiting ends.
    pub stop: CancellationToken,
}

/// What happened to one download, for the lines on stderr.
#[derive(Debug)]
pub struct TaskReport {
    /// The task's number, from 1, in argument order.
    pub task: usize,
    /// The server.
    pub addr: SocketAddr,
    /// The poem's size and the download's time, or why it failed (the last try, for a check).
    pub result: Result<(usize, Duration), FetchError>,
    /// What the transformation service did, when one was asked for and the download worked.
    pub transform: Option<TransformOutcome>,
}

/// What the transformation service did to a poem.
#[derive(Debug)]
pub enum TransformOutcome {
    /// The poem was replaced by the service's reply.
    Done {
        /// The service.
        via: SocketAddr,
        /// The transformed poem's size.
        bytes: usize,
    },
    /// The service failed: the original poem is kept.
    Failed {
        /// The service.
        via: SocketAddr,
        /// Why.
        error: TransformError,
    },
}

impl TaskReport {
    /// The report's lines, for stderr:
    /// `Task 2: got 3003 bytes of poetry from 127.0.0.1:10001 in 0.004s`,
    /// `Task 2: failed to get poetry from 127.0.0.1:10001: connection refused`.
    pub fn lines(&self) -> Vec<String> {
        let Self {
            task,
            addr,
            result,
            transform,
        } = self;
        let mut lines = vec![match result {
            Ok((bytes, took)) => format!(
                "Task {task}: got {bytes} bytes of poetry from {addr} in {:.3}s",
                took.as_secs_f64()
            ),
            Err(e) => format!("Task {task}: failed to get poetry from {addr}: {e}"),
        }];
        match transform {
            None => {}
            Some(TransformOutcome::Done { via, bytes }) => {
                lines.push(format!(
                    "Task {task}: cummingsified via {via} ({bytes} bytes)"
                ));
            }
            Some(TransformOutcome::Failed { via, error }) => lines.push(format!(
                "Task {task}: cummingsify via {via} failed: {error}; keeping the original poem"
            )),
        }
        lines
    }
}

/// What the client hears while it downloads (progress bars and report lines, in the binary).
/// Called from the download tasks.
pub trait Observer: Send + Sync {
    /// Task `task` is connecting to `addr`.
    fn started(&self, _task: usize, _addr: SocketAddr) {}
    /// Task `task` has `bytes` bytes so far.
    fn received(&self, _task: usize, _bytes: usize) {}
    /// Task `task` is over.
    fn finished(&self, _report: &TaskReport) {}
}

/// The outcome of [`download_all`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Poems downloaded.
    pub got: usize,
    /// Downloads that failed (the interrupted ones included).
    pub failed: usize,
    /// Of those, the ones a stop interrupted, or that never began.
    pub interrupted: usize,
    /// Time from the first connection to the last poem written.
    pub elapsed: Duration,
}

impl Summary {
    /// `Got 3 poems in 0.012s`, the client's last line.
    pub fn line(&self) -> String {
        format!(
            "Got {} poems in {:.3}s",
            self.got,
            self.elapsed.as_secs_f64()
        )
    }
}

/// Downloads a poem from every address, at most `options.concurrency` held at a time (a download
/// begins once a place is free: the settled downloads handed on hold theirs until dropped), and
/// hands each download to `deliver` once settled, in the addresses' order (each as soon as the
/// ones before it are settled). Reports go to `observer` as the downloads end. Stops at the first error
/// `deliver` answers (the reader of the poems went away, say) and returns it.
pub async fn download_all<E>(
    addrs: Vec<SocketAddr>,
    options: &Options,
    observer: Arc<dyn Observer>,
    mut deliver: impl FnMut(Settled) -> Result<(), E>,
) -> Result<Summary, E> {
    let start = Instant::now();
    let n = addrs.len();
    let (tx, mut rx) = mpsc::unbounded_channel::<Settled>();
    let limit = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let spawner = {
        let options = options.clone();
        tokio::spawn(async move {
            for (i, addr) in addrs.into_iter().enumerate() {
                let task = i + 1;
                let permit = tokio::select! {
                    biased;
                    () = options.stop.cancelled() => None,
                    permit = limit.clone().acquire_owned() => permit.ok(),
                };
                let Some(permit) = permit.filter(|_| !options.stop.is_cancelled()) else {
                    // Stopped: this download never begins.
                    let _ = tx.send(Settled::interrupted(task, addr, &options, Instant::now()));
                    continue;
                };
                let (tx, observer, options) = (tx.clone(), observer.clone(), options.clone());
                tokio::spawn(async move {
                    let began = Instant::now();
                    let (report, settled) = tokio::select! {
                        biased;
                        done = one_task(task, addr, &options, &*observer) => done,
                        () = options.stop.cancelled() => interrupted(task, addr, &options, began),
                    };
                    observer.finished(&report);
                    // Its place is given back once the download is dropped, printed.
                    let _ = tx.send(settled.holding(permit));
                });
            }
        })
    };

    // Downloads settle in any order; they are handed on in argument order.
    let mut waiting: Vec<Option<Settled>> = std::iter::repeat_with(|| None).take(n).collect();
    let (mut next, mut got, mut stopped) = (0, 0, 0);
    while next < n {
        let Some(settled) = rx.recv().await else {
            break; // a task panicked: what it had is lost
        };
        let at = settled.task - 1;
        waiting[at] = Some(settled);
        while let Some(settled) = waiting.get_mut(next).and_then(Option::take) {
            got += usize::from(settled.poem.is_some());
            stopped += usize::from(settled.interrupted);
            next += 1;
            deliver(settled)?;
        }
    }
    let _ = spawner.await;
    Ok(Summary {
        got,
        failed: n - got,
        interrupted: stopped,
        elapsed: start.elapsed(),
    })
}

/// One download, settled, as [`download_all`] hands it on (in the addresses' order).
#[derive(Debug)]
pub struct Settled {
    /// The task's number, from 1, in argument order.
    pub task: usize,
    /// The poem, when it arrived whole (transformed when that was asked for and worked).
    pub poem: Option<Bytes>,
    /// The check's outcome, when the downloads are checks ([`Options::checks`]).
    pub check: Option<Outcome>,
    /// [`Options::stop`] ended the download before it was over (or before it began).
    pub interrupted: bool,
    /// Its place among the [`Options::concurrency`] ones: a download settled but not yet
    /// dropped (printed) still holds it, so that the poems held at once, downloading, waiting
    /// for the ones before them or for the printer, are never more than that.
    place: Option<OwnedSemaphorePermit>,
}

impl Settled {
    /// The settled download, holding `place` until it is dropped.
    fn holding(mut self, place: OwnedSemaphorePermit) -> Self {
        self.place = Some(place);
        self
    }

    /// A download a stop ended (or that never began), `began` then: no poem; when the
    /// downloads are checks, an outcome that says so (`<addr> not ready when interrupted after
    /// 0.3 s: no answer yet`), so that every address still has one.
    fn interrupted(task: usize, addr: SocketAddr, options: &Options, began: Instant) -> Self {
        let check = options.checks.map(|checks| Outcome {
            target: addr.to_string(),
            result: Err(Refusal::not_ready("no answer yet")),
            attempts: 0,
            waited: began.elapsed(),
            interrupted: true,
            waiting: checks.wait.is_some(),
        });
        Self {
            task,
            poem: None,
            check,
            interrupted: true,
            place: None,
        }
    }
}

/// A download in progress that a stop ended.
fn interrupted(
    task: usize,
    addr: SocketAddr,
    options: &Options,
    began: Instant,
) -> (TaskReport, Settled) {
    let report = TaskReport {
        task,
        addr,
        result: Err(FetchError::Interrupted),
        transform: None,
    };
    (report, Settled::interrupted(task, addr, options, began))
}

async fn one_task(
    task: usize,
    addr: SocketAddr,
    options: &Options,
    observer: &dyn Observer,
) -> (TaskReport, Settled) {
    observer.started(task, addr);
    let started = Instant::now();
    let on_bytes = |bytes| observer.received(task, bytes);
    let (timeout, max) = (options.timeout, options.max_poem_size);
    let (fetched, outcome) = match &options.checks {
        None => (get_poem(addr, timeout, max, on_bytes).await, None),
        Some(checks) => {
            let stop = &options.stop;
            let (fetched, outcome) =
                check::checked(addr, timeout, max, checks, stop, on_bytes).await;
            (fetched, Some(outcome))
        }
    };
    let mut report = TaskReport {
        task,
        addr,
        result: Err(FetchError::Empty),
        transform: None,
    };
    let mut settled = Settled {
        task,
        poem: None,
        check: outcome,
        interrupted: false,
        place: None,
    };
    let poem = match fetched {
        Ok(poem) => poem,
        Err(e) => {
            report.result = Err(e);
            return (report, settled);
        }
    };
    report.result = Ok((poem.len(), started.elapsed()));
    let Some(via) = options.transform else {
        settled.poem = Some(poem);
        return (report, settled);
    };
    match transform::request(via, Transform::Cummingsify, &poem, options.timeout).await {
        Ok(new) => {
            report.transform = Some(TransformOutcome::Done {
                via,
                bytes: new.len(),
            });
            settled.poem = Some(new);
        }
        Err(error) => {
            report.transform = Some(TransformOutcome::Failed { via, error });
            settled.poem = Some(poem);
        }
    }
    (report, settled)
}
