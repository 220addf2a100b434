//! The echo server: every byte a client sends comes back, in order, unchanged.
//!
//! How a connection spends its life, and why it is cheap:
//!
//! - While it waits for data it holds no buffer at all: its task waits for the socket to become
//!   readable. Then, in one go and without yielding, it reads into a scratch buffer shared by
//!   every connection of the thread ([`SCRATCH_SIZE`] bytes) and writes the bytes straight back.
//!   An idle connection costs its task, its socket registration and its timer: well under 1 KiB.
//! - Only when the client does not read fast enough (the write would block) does the connection
//!   copy the bytes not yet written into a buffer of its own, and it reads nothing more until they
//!   are written. That is the backpressure: one connection never holds more than
//!   [`SCRATCH_SIZE`] bytes, however much its client sends without reading.
//! - When the client shuts its write side (half-close), everything read has already been written
//!   back; the server then shuts its own write side and closes.
//!
//! Limits: `max_connections` tasks at most (a semaphore permit is taken *before* `accept`, so a
//! connection over the limit waits in the kernel's listen queue until another one closes; it is
//! not refused, unless that queue of 4096 is full). `idle_timeout` closes a connection that has
//! neither received nor sent a byte for that long.
//!
//! Shutdown: when the `shutdown` future resolves the server stops accepting. A connection that
//! is idle closes at once; one in the middle of an echo first writes back everything it has
//! received, then closes as soon as no more bytes are waiting. Whatever is still open after
//! `grace` is closed. [`run`] then returns the [`Stats`].

use std::cell::RefCell;
use std::fmt::Write as _;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use crate::Error;

/// Bytes read (and written back) in one step; also the most a connection ever buffers.
pub const SCRATCH_SIZE: usize = 64 * 1024;

/// The listen queue asked of the kernel (Linux caps it at `net.core.somaxconn`).
pub const BACKLOG: u32 = 4096;

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Connections served at once; more wait in the kernel's listen queue. At least 1.
    pub max_connections: usize,
    /// Close a connection that has neither received nor sent anything for this long.
    pub idle_timeout: Option<Duration>,
    /// After the shutdown signal, how long in-flight echoes may take before they are cut.
    pub grace: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            idle_timeout: Some(Duration::from_mins(5)),
            grace: Duration::from_secs(5),
        }
    }
}

/// What a server did, returned when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// TCP connections accepted.
    pub connections: u64,
    /// UDP datagrams echoed.
    pub datagrams: u64,
    /// Bytes written back.
    pub bytes: u64,
    /// Connections still open when the grace period ran out, closed then.
    pub cut_at_grace: u64,
}

impl Stats {
    /// The one-line summary the server prints on stderr when it stops.
    pub fn summary(&self, udp: bool) -> String {
        let mut line = if udp {
            format!(
                "echo-server: stopped; {} datagram{} echoed, {} bytes",
                self.datagrams,
                plural(self.datagrams),
                self.bytes
            )
        } else {
            format!(
                "echo-server: stopped; {} connection{} served, {} bytes echoed",
                self.connections,
                plural(self.connections),
                self.bytes
            )
        };
        if self.cut_at_grace > 0 {
            let _ = write!(
                line,
                ", {} connection{} cut at the end of the grace period",
                self.cut_at_grace,
                plural(self.cut_at_grace)
            );
        }
        line
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Binds a TCP listener on `addr` (port 0 picks a free port) with `SO_REUSEADDR` and a listen
/// queue of [`BACKLOG`]. Must be called inside a tokio runtime.
pub fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    let err = |source| Error::Bind { addr, source };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(err)?;
    socket.set_reuseaddr(true).map_err(err)?;
    socket.bind(addr).map_err(err)?;
    socket.listen(BACKLOG).map_err(err)
}

/// Binds a UDP socket on `addr` (port 0 picks a free port). Must be called inside a runtime.
pub async fn bind_udp(addr: SocketAddr) -> Result<UdpSocket, Error> {
    UdpSocket::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })
}

/// State shared by the accept loop and every connection.
struct Shared {
    idle_timeout: Option<Duration>,
    /// Set just before `stop` is cancelled, so a connection can check it without a lock.
    stopping: AtomicBool,
    /// Cancelled when the server stops accepting: idle connections close.
    stop: CancellationToken,
    /// Cancelled when the grace period ends: every connection closes.
    force: CancellationToken,
    bytes: AtomicU64,
}

/// Serves TCP echo on `listener` until `shutdown` resolves, then drains (see the module docs)
/// and returns what was done.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future,
) -> Result<Stats, Error> {
    if config.max_connections == 0 {
        return Err(Error::Usage(
            "error: --max-connections must be at least 1".into(),
        ));
    }
    let shared = Arc::new(Shared {
        idle_timeout: config.idle_timeout.filter(|d| !d.is_zero()),
        stopping: AtomicBool::new(false),
        stop: CancellationToken::new(),
        force: CancellationToken::new(),
        bytes: AtomicU64::new(0),
    });
    let permits = Arc::new(Semaphore::new(
        config.max_connections.min(Semaphore::MAX_PERMITS),
    ));
    let tracker = TaskTracker::new();
    let mut stats = Stats::default();
    let mut shutdown = std::pin::pin!(shutdown);

    loop {
        // The permit first: at the limit, new connections wait in the listen queue.
        let permit = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            p = Arc::clone(&permits).acquire_owned() => p.expect("the semaphore is never closed"),
        };
        let (stream, peer) = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(pair) => pair,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
        };
        debug!(%peer, "accepted");
        stats.connections += 1;
        tracker.spawn(connection(stream, Arc::clone(&shared), permit));
    }

    drop(listener);
    info!(
        open = tracker.len(),
        "stopping: no new connections; finishing in-flight echoes"
    );
    shared.stopping.store(true, Ordering::SeqCst);
    shared.stop.cancel();
    tracker.close();
    if tokio::time::timeout(config.grace, tracker.wait())
        .await
        .is_err()
    {
        stats.cut_at_grace = tracker.len() as u64;
        warn!(
            open = stats.cut_at_grace,
            "grace period over: closing the connections still open"
        );
        shared.force.cancel();
        tracker.wait().await;
    }
    stats.bytes = shared.bytes.load(Ordering::Relaxed);
    Ok(stats)
}

/// Accept failures are the client's problem (reset before accept) or a shortage (out of file
/// descriptors): log, wait a little for the shortage, and keep serving.
async fn accept_failed(e: &io::Error) {
    let shortage = matches!(e.raw_os_error(), Some(23 | 24 | 105 | 12)); // ENFILE EMFILE ENOBUFS ENOMEM
    if shortage {
        warn!("cannot accept a connection: {e}; retrying in 100 ms");
        tokio::time::sleep(Duration::from_millis(100)).await;
    } else {
        debug!("accept failed: {e}");
    }
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

async fn connection(mut stream: TcpStream, shared: Arc<Shared>, _permit: OwnedSemaphorePermit) {
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

/// Serves UDP echo on `socket` until `shutdown` resolves: each datagram goes back to its sender.
pub async fn run_udp(socket: UdpSocket, shutdown: impl Future) -> Result<Stats, Error> {
    let mut stats = Stats::default();
    let mut buf = vec![0u8; 65_536];
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (n, peer) = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            r = socket.recv_from(&mut buf) => match r {
                Ok(pair) => pair,
                Err(e) => {
                    // An ICMP error from an earlier reply, say: not the server's problem.
                    debug!("receive failed: {e}");
                    continue;
                }
            },
        };
        match socket.send_to(&buf[..n], peer).await {
            Ok(_) => {
                stats.datagrams += 1;
                stats.bytes += n as u64;
            }
            Err(e) => debug!(%peer, "cannot send the echo back: {e}"),
        }
    }
    Ok(stats)
}

/// Checks the sizes that make an idle connection cheap.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines() {
        let s = Stats {
            connections: 1,
            bytes: 11,
            ..Stats::default()
        };
        assert_eq!(
            s.summary(false),
            "echo-server: stopped; 1 connection served, 11 bytes echoed"
        );
        let s = Stats {
            connections: 3,
            bytes: 5,
            cut_at_grace: 2,
            ..Stats::default()
        };
        assert_eq!(
            s.summary(false),
            "echo-server: stopped; 3 connections served, 5 bytes echoed, 2 connections cut at the end of the grace period"
        );
        let s = Stats {
            datagrams: 2,
            bytes: 4,
            ..Stats::default()
        };
        assert_eq!(
            s.summary(true),
            "echo-server: stopped; 2 datagrams echoed, 4 bytes"
        );
    }

    #[tokio::test]
    async fn an_idle_connection_task_is_small() {
        let listener = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = TcpStream::connect(addr).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let shared = Arc::new(Shared {
            idle_timeout: Some(Duration::from_secs(1)),
            stopping: AtomicBool::new(false),
            stop: CancellationToken::new(),
            force: CancellationToken::new(),
            bytes: AtomicU64::new(0),
        });
        let permit = Arc::new(Semaphore::new(1)).acquire_owned().await.unwrap();
        let fut = connection(stream, shared, permit);
        let size = std::mem::size_of_val(&fut);
        eprintln!("a connection task future: {size} bytes");
        assert!(size <= 1024, "a connection's future takes {size} bytes");
    }
}
