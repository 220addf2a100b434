//! The Get Poetry Now! client: downloads poems from many servers at once.
//!
//! The protocol has no framing: the poem is every byte up to the server's close. So only a
//! clean close (FIN) completes a poem; a reset, a timeout or a close before any byte is a failed
//! download (the tutorial's clients accept a reset mid-poem as a whole poem).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};

use crate::Error;
use crate::transform::{self, Transform, TransformError};

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The connection could not be made.
    #[error("{}", describe_connect_error(.0))]
    Connect(#[source] io::Error),
    /// The connection was not made within the timeout.
    #[error("timed out connecting ({0:?})")]
    ConnectTimedOut(Duration),
    /// The server sent nothing for the timeout.
    #[error("timed out: nothing received for {timeout:?} after {got} bytes")]
    TimedOut {
        /// The timeout.
        timeout: Duration,
        /// Bytes received before.
        got: usize,
    },
    /// The server reset the connection: the poem is incomplete.
    #[error("connection reset after {got} bytes: the poem is incomplete")]
    Reset {
        /// Bytes received before.
        got: usize,
    },
    /// Reading failed otherwise.
    #[error("read failed after {got} bytes: {source}")]
    Read {
        /// Bytes received before.
        got: usize,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The server closed the connection without sending anything.
    #[error("the server closed the connection without sending a poem")]
    Empty,
}

/// The words for a failed connection: `connection refused` rather than the operating system's
/// `Connection refused (os error 111)`.
pub fn describe_connect_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
        io::ErrorKind::HostUnreachable => "host unreachable".to_owned(),
        io::ErrorKind::NetworkUnreachable => "network unreachable".to_owned(),
        io::ErrorKind::AddrNotAvailable => {
            "no local address available (out of ephemeral ports?)".to_owned()
        }
        _ => format!("cannot connect: {e}"),
    }
}

/// Downloads one poem: connects, reads until the server's clean close. `timeout` bounds the
/// connection and every wait for more bytes (a slow server may take minutes in all, as long as
/// it keeps sending). `on_bytes` hears the running total after each read.
pub async fn get_poem(
    addr: SocketAddr,
    timeout: Duration,
    on_bytes: impl FnMut(usize),
) -> Result<Bytes, FetchError> {
    let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| FetchError::ConnectTimedOut(timeout))?
        .map_err(FetchError::Connect)?;
    read_poem(stream, timeout, on_bytes).await
}

/// Reads a poem from a connected stream (the part of [`get_poem`] after connecting).
async fn read_poem(
    mut stream: impl AsyncRead + Unpin,
    timeout: Duration,
    mut on_bytes: impl FnMut(usize),
) -> Result<Bytes, FetchError> {
    let mut poem = BytesMut::with_capacity(4096);
    loop {
        let got = poem.len();
        if poem.capacity() == poem.len() {
            poem.reserve(poem.len().max(4096));
        }
        match tokio::time::timeout(timeout, stream.read_buf(&mut poem)).await {
            Err(_) => return Err(FetchError::TimedOut { timeout, got }),
            Ok(Ok(0)) if got == 0 => return Err(FetchError::Empty),
            Ok(Ok(0)) => return Ok(poem.freeze()),
            Ok(Ok(_)) => on_bytes(poem.len()),
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset => {
                return Err(FetchError::Reset { got });
            }
            Ok(Err(source)) => return Err(FetchError::Read { got, source }),
        }
    }
}

/// How to download.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bounds each connection and each wait for bytes.
    pub timeout: Duration,
    /// Downloads in progress at once.
    pub concurrency: usize,
    /// A transformation service to cummingsify every poem through (the original poem is kept
    /// when that fails).
    pub transform: Option<SocketAddr>,
}

/// What happened to one download, for the lines on stderr.
#[derive(Debug)]
pub struct TaskReport {
    /// The task's number, from 1, in argument order.
    pub task: usize,
    /// The server.
    pub addr: SocketAddr,
    /// The poem's size and the download's time, or why it failed.
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
    /// Downloads that failed.
    pub failed: usize,
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

/// Downloads a poem from every address, at most `options.concurrency` at a time, and writes the
/// poems that arrived whole to `out` in the addresses' order (each as soon as the ones before it
/// are settled). Failures are reported to `observer`, and leave nothing in `out`.
pub async fn download_all<W: AsyncWrite + Unpin>(
    addrs: Vec<SocketAddr>,
    options: &Options,
    observer: Arc<dyn Observer>,
    out: &mut W,
) -> Result<Summary, Error> {
    let start = Instant::now();
    let n = addrs.len();
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Option<Bytes>)>();
    let limit = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let spawner = {
        let options = options.clone();
        tokio::spawn(async move {
            for (i, addr) in addrs.into_iter().enumerate() {
                let permit = limit
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed");
                let (tx, observer, options) = (tx.clone(), observer.clone(), options.clone());
                tokio::spawn(async move {
                    let (report, poem) = one_task(i + 1, addr, &options, &*observer).await;
                    drop(permit);
                    observer.finished(&report);
                    let _ = tx.send((i, poem));
                });
            }
        })
    };

    // Poems arrive in any order; they leave in argument order.
    let mut out = tokio::io::BufWriter::with_capacity(64 * 1024, out);
    let mut waiting: Vec<Option<Option<Bytes>>> = vec![None; n];
    let (mut next, mut got) = (0, 0);
    while next < n {
        let Some((i, poem)) = rx.recv().await else {
            break; // a task panicked: what it had is lost
        };
        waiting[i] = Some(poem);
        while let Some(settled) = waiting.get_mut(next).and_then(Option::take) {
            if let Some(poem) = settled {
                out.write_all(&poem).await.map_err(Error::Stdout)?;
                got += 1;
            }
            next += 1;
        }
        if rx.is_empty() {
            out.flush().await.map_err(Error::Stdout)?;
        }
    }
    out.flush().await.map_err(Error::Stdout)?;
    let _ = spawner.await;
    Ok(Summary {
        got,
        failed: n - got,
        elapsed: start.elapsed(),
    })
}

async fn one_task(
    task: usize,
    addr: SocketAddr,
    options: &Options,
    observer: &dyn Observer,
) -> (TaskReport, Option<Bytes>) {
    observer.started(task, addr);
    let started = Instant::now();
    let fetched = get_poem(addr, options.timeout, |bytes| {
        observer.received(task, bytes);
    })
    .await;
    let mut report = TaskReport {
        task,
        addr,
        result: Err(FetchError::Empty),
        transform: None,
    };
    let poem = match fetched {
        Ok(poem) => poem,
        Err(e) => {
            report.result = Err(e);
            return (report, None);
        }
    };
    report.result = Ok((poem.len(), started.elapsed()));
    let Some(via) = options.transform else {
        return (report, Some(poem));
    };
    match transform::request(via, Transform::Cummingsify, &poem, options.timeout).await {
        Ok(new) => {
            report.transform = Some(TransformOutcome::Done {
                via,
                bytes: new.len(),
            });
            (report, Some(new))
        }
        Err(error) => {
            report.transform = Some(TransformOutcome::Failed { via, error });
            (report, Some(poem))
        }
    }
}
