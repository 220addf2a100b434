//! One connection's life, and why it is cheap (the hot path: keep it as it is, it was tuned).
//!
//! - While it waits for data it holds no buffer at all: its task waits for the socket to become
//!   readable. Then, in one go and without yielding, it reads into a scratch buffer shared by
//!   every connection of the thread ([`SCRATCH_SIZE`] bytes) and writes the bytes straight back
//!   ([`poll_echo`]). An idle connection costs its task, its socket registration and its timer:
//!   well under 1 KiB.
//! - Only when the client does not read fast enough (the write would block) does the connection
//!   copy the bytes not yet written into a buffer of its own, and it reads nothing more until they
//!   are written. That is the backpressure: one connection never holds more than
//!   [`SCRATCH_SIZE`] bytes, however much its client sends without reading.
//! - When the client shuts its write side (half-close), everything read has already been written
//!   back; the server then shuts its own write side and closes.

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;
use tracing::debug;

/// Bytes read (and written back) in one step; also the most a connection ever buffers.
pub const SCRATCH_SIZE: usize = 64 * 1024;

/// What every connection of a server shares: made once, on the first connection.
pub(super) struct Shared {
    pub(super) idle_timeout: Option<Duration>,
    /// Set just before `stop` is cancelled, so a connection can check it without a lock.
    pub(super) stopping: Arc<AtomicBool>,
    /// Cancelled when the server stops accepting (`Ctx::stopping`): idle connections close.
    pub(super) stop: CancellationToken,
    /// Cancelled when the grace period ends (`Ctx::abort`): every connection closes.
    pub(super) force: CancellationToken,
    /// Bytes echoed by the connections that have ended.
    pub(super) bytes: Arc<AtomicU64>,
}

thread_local! {
    /// The buffer every connection of this thread reads into; never held across an await.
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; SCRATCH_SIZE]);
}

/// One step of echo: what happened.
enum Step {
    /// The client shut its write side.
    Eof,
    /// This many bytes were read and all written back.
    Echoed(usize),
    /// `written` bytes went back; `rest` could not be written yet.
    Blocked { written: usize, rest: Vec<u8> },
}

/// Reads what is there into the thread's scratch buffer and writes it straight back, without
/// yielding in between. Pending (waker registered) while there is nothing to read.
fn poll_echo(stream: &mut TcpStream, cx: &mut Context<'_>) -> Poll<io::Result<Step>> {
    SCRATCH.with_borrow_mut(|buf| {
        let mut rb = ReadBuf::new(buf);
        ready!(Pin::new(&mut *stream).poll_read(cx, &mut rb))?;
        let data = rb.filled();
        if data.is_empty() {
            return Poll::Ready(Ok(Step::Eof));
        }
        let mut written = 0;
        while written < data.len() {
            match Pin::new(&mut *stream).poll_write(cx, &data[written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    return Poll::Ready(Ok(Step::Blocked {
                        written,
                        rest: data[written..].to_vec(),
                    }));
                }
            }
        }
        Poll::Ready(Ok(Step::Echoed(written)))
    })
}

/// Whether the socket has bytes to read, or the client's EOF, right now (a non-blocking peek).
fn bytes_waiting(stream: &TcpStream) -> bool {
    let mut one = [std::mem::MaybeUninit::<u8>::uninit(); 1];
    match socket2::SockRef::from(stream).peek(&mut one) {
        Ok(_) => true,
        Err(e) => e.kind() != io::ErrorKind::WouldBlock && e.kind() != io::ErrorKind::Interrupted,
    }
}

/// The idle timer: resolves when the connection has been idle for `idle` since `last`; never
/// without a timer. The timer is only moved when it fires, not on every message, and once its
/// waker is registered it is only polled again after it has fired.
struct IdleTimer<'a> {
    sleep: Option<Pin<&'a mut Sleep>>,
    idle: Duration,
    /// Polled since the last reset, so the timer will wake the task when it fires.
    armed: bool,
}

impl IdleTimer<'_> {
    fn poll(&mut self, last: Instant, cx: &mut Context<'_>) -> Poll<()> {
        let Some(sleep) = self.sleep.as_mut() else {
            return Poll::Pending;
        };
        loop {
            if self.armed && !sleep.is_elapsed() {
                return Poll::Pending;
            }
            self.armed = true;
            ready!(sleep.as_mut().poll(cx));
            let deadline = last + self.idle;
            if Instant::now() >= deadline {
                return Poll::Ready(());
            }
            sleep.as_mut().reset(deadline);
            self.armed = false;
        }
    }
}

/// Adds a connection's echoed bytes to the server's total when the connection ends.
struct Echoed<'a> {
    total: &'a AtomicU64,
    bytes: u64,
}

impl Drop for Echoed<'_> {
    fn drop(&mut self) {
        self.total.fetch_add(self.bytes, Ordering::Relaxed);
    }
}

/// The stop signal, polled cheaply: once registered, the token's lock is only taken again
/// after the `stopping` flag is up.
struct Stopped<'a, F> {
    wait: Pin<&'a mut F>,
    flag: &'a AtomicBool,
    registered: bool,
}

impl<F: Future<Output = ()>> Stopped<'_, F> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // A task's waker does not change, so the registration made by the first poll holds.
        if self.registered && !self.flag.load(Ordering::Acquire) {
            return Poll::Pending;
        }
        self.registered = true;
        self.wait.as_mut().poll(cx)
    }
}

/// Serves one connection until the client closes, it stays idle too long, the server stops (at
/// once when idle, after the echo in progress otherwise) or the grace period ends.
pub(super) async fn connection(
    mut stream: TcpStream,
    shared: Arc<Shared>,
    _permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let mut echoed = Echoed {
        total: &shared.bytes,
        bytes: 0,
    };
    let idle = shared.idle_timeout;
    let mut sleep = std::pin::pin!(idle.map(tokio::time::sleep));
    let mut timer = IdleTimer {
        sleep: sleep.as_mut().as_pin_mut(),
        idle: idle.unwrap_or_default(),
        armed: false,
    };
    let mut last = Instant::now();
    let wait = std::pin::pin!(shared.stop.cancelled());
    let mut stopped = Stopped {
        wait,
        flag: &shared.stopping,
        registered: false,
    };
    let mut stopping = false;
    loop {
        let step = if stopping {
            // Stopping: go on only while bytes (or the client's EOF) are already waiting. Ask
            // the kernel: the runtime's view of readiness may not have caught up yet.
            if !bytes_waiting(&stream) {
                break;
            }
            poll_fn(|cx| poll_echo(&mut stream, cx)).await
        } else {
            tokio::select! {
                biased;
                step = poll_fn(|cx| poll_echo(&mut stream, cx)) => step,
                () = poll_fn(|cx| timer.poll(last, cx)) => {
                    debug!("closing a connection idle for {:?}", timer.idle);
                    return;
                }
                () = poll_fn(|cx| stopped.poll(cx)) => {
                    stopping = true;
                    continue;
                }
            }
        };
        match step {
            Ok(Step::Echoed(n)) => {
                echoed.bytes += n as u64;
                if idle.is_some() {
                    last = Instant::now();
                }
            }
            Ok(Step::Eof) => {
                // Everything read has been written back: answer the half-close with ours.
                let _ = stream.shutdown().await;
                return;
            }
            Ok(Step::Blocked { written, rest }) => {
                echoed.bytes += written as u64;
                let mut off = 0;
                let mut forced = std::pin::pin!(shared.force.cancelled());
                while off < rest.len() {
                    tokio::select! {
                        biased;
                        r = stream.write(&rest[off..]) => match r {
                            Ok(n) if n > 0 => {
                                off += n;
                                echoed.bytes += n as u64;
                                last = Instant::now();
                            }
                            Ok(_) => return,
                            Err(e) => {
                                debug!("write failed: {e}");
                                return;
                            }
                        },
                        () = poll_fn(|cx| timer.poll(last, cx)) => {
                            debug!("closing a connection whose client has not read for {:?}", timer.idle);
                            return;
                        }
                        () = &mut forced => return,
                    }
                }
                last = Instant::now();
            }
            Err(e) => {
                debug!("connection error: {e}");
                return;
            }
        }
    }
    let _ = stream.shutdown().await;
}

/// Checks the sizes that make an idle connection cheap.
#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_idle_connection_task_is_small() {
        let listener = common::net::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = TcpStream::connect(addr).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let shared = Arc::new(Shared {
            idle_timeout: Some(Duration::from_secs(1)),
            stopping: Arc::default(),
            stop: CancellationToken::new(),
            force: CancellationToken::new(),
            bytes: Arc::default(),
        });
        let permit = Arc::new(tokio::sync::Semaphore::new(1))
            .acquire_owned()
            .await
            .unwrap();
        let fut = connection(stream, shared, permit);
        let size = std::mem::size_of_val(&fut);
        eprintln!("a connection task future: {size} bytes");
        assert!(size <= 1024, "a connection's future takes {size} bytes");
    }
}
