//! The accept loop every server in the crate shares, with graceful shutdown.
//!
//! - A `Semaphore` bounds the connections: a permit is taken *before* `accept`, so at the limit
//!   new clients wait in the kernel's backlog while the ones being served keep going.
//! - Each accepted stream goes to the server's handler with its permit. A handler that can
//!   finish at once does so inline (the fast poetry server writes a 3 KB poem into the empty send
//!   buffer and closes: no task); one that must wait spawns a task on [`Ctx::tracker`].
//! - On shutdown the listener closes (new clients are refused), connections in progress get
//!   `grace` to finish, then [`Ctx::abort`] fires and the handlers cut theirs short.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustix::net::SocketFlags;
use tokio::io::Interest;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::Error;

/// What a connection handler may use: the tracker to spawn on, the token that says "stop now".
pub(crate) struct Ctx {
    /// Spawn every connection task here: shutdown waits for them.
    pub tracker: TaskTracker,
    /// Fires when the grace period after a shutdown request is over.
    pub abort: CancellationToken,
}

/// Accepts connections until `shutdown` resolves, hands each to `on_accept` with its permit,
/// then waits up to `grace` for the connections in progress, aborts the rest and waits again.
pub(crate) async fn serve(
    listener: TcpListener,
    max_connections: usize,
    grace: Duration,
    shutdown: impl Future<Output = ()>,
    mut on_accept: impl FnMut(std::net::TcpStream, OwnedSemaphorePermit, &Ctx),
) -> Result<(), Error> {
    let listener = ReadyListener::new(listener).map_err(Error::Listener)?;
    let limit = Arc::new(Semaphore::new(
        max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let ctx = Ctx {
        tracker: TaskTracker::new(),
        abort: CancellationToken::new(),
    };
    tokio::pin!(shutdown);
    loop {
        let permit = if let Ok(permit) = limit.clone().try_acquire_owned() {
            permit
        } else {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                p = limit.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            }
        };
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            r = listener.accept() => r,
        };
        match accepted {
            Ok(stream) => on_accept(stream, permit, &ctx),
            Err(e) => {
                drop(permit);
                if let Some(pause) = after_accept_error(&e) {
                    tokio::select! {
                        biased;
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
    }

    // Stop accepting: clients connecting from now on are refused.
    drop(listener);
    ctx.tracker.close();
    let in_flight = ctx.tracker.len();
    if in_flight > 0 {
        tracing::info!("waiting up to {grace:?} for {in_flight} connection(s) in progress");
    }
    if tokio::time::timeout(grace, ctx.tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            "cutting {} connection(s) short: the {grace:?} grace period is over",
            ctx.tracker.len()
        );
        ctx.abort.cancel();
        ctx.tracker.wait().await;
    }
    Ok(())
}

/// How long to pause after a failed `accept`: `None` for errors about one connection (the
/// client gave up already), a pause when the process is out of descriptors or memory.
fn after_accept_error(e: &io::Error) -> Option<Duration> {
    use io::ErrorKind::{ConnectionAborted, ConnectionReset, Interrupted, WouldBlock};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    ) {
        tracing::debug!("accept: {e}");
        return None;
    }
    // EMFILE, ENFILE, ENOBUFS, ENOMEM and the like: retrying at once would spin.
    tracing::warn!("cannot accept a connection: {e}; pausing 100ms");
    Some(Duration::from_millis(100))
}

/// A listening socket that accepts without registering the new sockets with the reactor.
///
/// tokio's `TcpListener::accept` registers every accepted socket (an `epoll_ctl` to add it, and
/// another to remove it when it is dropped), which is a third of the system calls of a fast
/// poetry connection that needs no reactor at all. So the listening socket's readiness comes
/// from the reactor and the accepting is done here: `accept4(SOCK_NONBLOCK)` hands back a
/// plain socket, registered later only by the handlers that have to wait.
///
/// The readiness comes through a `tokio::net::TcpStream` built on the listening socket's
/// descriptor: `AsyncFd`, the general tool, needs `unsafe` to register a descriptor since tokio
/// 1.54, and the workspace forbids unsafe code. That stream is only ever asked `async_io()`,
/// never to read or write.
struct ReadyListener {
    io: TcpStream,
}

impl ReadyListener {
    fn new(listener: TcpListener) -> io::Result<Self> {
        let fd: std::os::fd::OwnedFd = listener.into_std()?.into();
        Ok(Self {
            io: TcpStream::from_std(std::net::TcpStream::from(fd))?,
        })
    }

    /// The next connection, as a non-blocking socket the reactor does not know. (`async_io`
    /// waits for readiness, clears it when `accept4` finds nothing, and counts each connection
    /// against the task's budget, so that a flood of clients cannot starve the other tasks.)
    async fn accept(&self) -> io::Result<std::net::TcpStream> {
        let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
        let fd = self
            .io
            .async_io(Interest::READABLE, || {
                Ok(rustix::net::accept_with(&self.io, flags)?)
            })
            .await?;
        Ok(std::net::TcpStream::from(fd))
    }
}

/// Why a connection was cut short.
#[derive(Debug)]
pub(crate) enum Cut {
    /// The grace period after a shutdown request is over.
    Aborted,
    /// The client took nothing for the stall timeout.
    Stalled,
    /// The connection failed (the client reset it, say).
    Failed(io::Error),
}

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cut::Aborted => f.write_str("the server is shutting down"),
            Cut::Stalled => f.write_str("the client stopped reading"),
            Cut::Failed(e) => write!(f, "{e}"),
        }
    }
}

/// Writes all of `data`, giving up when one write makes no progress for `stall` or when
/// `abort` fires.
pub(crate) async fn write_all(
    stream: &mut tokio::net::TcpStream,
    mut data: &[u8],
    stall: Duration,
    abort: &CancellationToken,
) -> Result<(), Cut> {
    use tokio::io::AsyncWriteExt;
    while !data.is_empty() {
        let n = tokio::select! {
            biased;
            () = abort.cancelled() => return Err(Cut::Aborted),
            r = tokio::time::timeout(stall, stream.write(data)) => match r {
                Err(_) => return Err(Cut::Stalled),
                Ok(Err(e)) => return Err(Cut::Failed(e)),
                Ok(Ok(0)) => return Err(Cut::Failed(io::ErrorKind::WriteZero.into())),
                Ok(Ok(n)) => n,
            },
        };
        data = &data[n..];
    }
    Ok(())
}

/// Ends a connection that did not deliver its whole reply with a reset, not a FIN: in these
/// protocols a clean close means "that was all of it", which would be a lie.
pub(crate) fn reset(stream: tokio::net::TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// A peer address for a log line ("a client" when the socket no longer knows it). Callers
/// look it up only when the line is printed.
pub(crate) fn peer_name(addr: io::Result<std::net::SocketAddr>) -> String {
    addr.map_or_else(|_| "a client".to_owned(), |a| a.to_string())
}

/// Binds a listener with a deep backlog (clients beyond `--max-connections` wait there).
pub fn bind(addr: std::net::SocketAddr) -> Result<TcpListener, Error> {
    let listen = || -> io::Result<TcpListener> {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(4096)
    };
    listen().map_err(|source| Error::Listen { addr, source })
}
