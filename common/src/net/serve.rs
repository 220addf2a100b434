//! The accept loop every server shares, with graceful shutdown.
//!
//! - A `Semaphore` bounds the connections: a permit is taken *before* `accept`, so at the limit
//!   new clients wait in the kernel's backlog while the ones being served keep going.
//! - Each accepted stream goes to the server's handler with its permit. A handler that can
//!   finish at once does so inline (the fast poetry server writes a 3 KB poem into the empty send
//!   buffer and closes: no task); one that must wait spawns a task on [`Ctx::tracker`].
//! - On shutdown the listener closes (new clients are refused) and [`Ctx::stopping`] fires (idle
//!   connections may close); connections in progress get `grace` to finish, then
//!   [`Ctx::abort`] fires and the handlers cut theirs short.

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

use super::io_error::describe_io;
use crate::duration::duration;

/// What a connection handler may use: the tracker to spawn on, the tokens that say "stop".
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Spawn every connection task here: shutdown waits for them.
    pub tracker: TaskTracker,
    /// Fires when shutdown is requested: no new connections; idle ones may close now.
    pub stopping: CancellationToken,
    /// Fires when the grace period after a shutdown request is over: close everything.
    pub abort: CancellationToken,
}

/// What [`serve`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServeStats {
    /// Connections accepted.
    pub accepted: u64,
    /// Connections still open when the grace period ended (cut short).
    pub cut_at_grace: u64,
}

/// Accepts connections until `shutdown` resolves, hands each to `on_accept` with its permit,
/// then waits up to `grace` for the connections in progress, aborts the rest and waits again.
///
/// The stream handed over is a non-blocking socket the reactor does not know yet: a handler
/// that needs to wait on it makes it a `tokio::net::TcpStream` with `from_std`.
pub async fn serve(
    listener: TcpListener,
    max_connections: usize,
    grace: Duration,
    shutdown: impl Future,
    mut on_accept: impl FnMut(std::net::TcpStream, OwnedSemaphorePermit, &Ctx),
) -> io::Result<ServeStats> {
    let listener = ReadyListener::new(listener)?;
    let limit = Arc::new(Semaphore::new(
        max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let ctx = Ctx {
        tracker: TaskTracker::new(),
        stopping: CancellationToken::new(),
        abort: CancellationToken::new(),
    };
    let mut stats = ServeStats::default();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = if let Ok(permit) = limit.clone().try_acquire_owned() {
            permit
        } else {
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                p = limit.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            }
        };
        let accepted = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            r = listener.accept() => r,
        };
        match accepted {
            Ok(stream) => {
                stats.accepted += 1;
                on_accept(stream, permit, &ctx);
            }
            Err(e) => {
                drop(permit);
                if let Some(pause) = after_accept_error(&e) {
                    tokio::select! {
                        biased;
                        _ = &mut shutdown => break,
                        () = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
    }

    // Stop accepting: clients connecting from now on are refused.
    drop(listener);
    ctx.stopping.cancel();
    ctx.tracker.close();
    let in_flight = ctx.tracker.len();
    if in_flight > 0 {
        tracing::info!(
            "stopping: waiting up to {} for {in_flight} connection(s) in progress",
            duration(grace)
        );
    }
    if tokio::time::timeout(grace, ctx.tracker.wait())
        .await
        .is_err()
    {
        stats.cut_at_grace = ctx.tracker.len() as u64;
        tracing::warn!(
            "cutting {} connection(s) short: the {} grace period is over",
            stats.cut_at_grace,
            duration(grace)
        );
        ctx.abort.cancel();
        ctx.tracker.wait().await;
    }
    Ok(stats)
}

/// How long to pause after a failed `accept`: `None` for errors about one connection (the
/// client gave up already), a pause when the process is out of descriptors or memory.
fn after_accept_error(e: &io::Error) -> Option<Duration> {
    use io::ErrorKind::{ConnectionAborted, ConnectionReset, Interrupted, WouldBlock};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    ) {
        tracing::debug!("accept: {}", describe_io(e));
        return None;
    }
    // EMFILE, ENFILE, ENOBUFS, ENOMEM and the like: retrying at once would spin.
    tracing::warn!(
        "cannot accept a connection: {}; pausing 100 ms",
        describe_io(e)
    );
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;

    /// [`serve`] on a fresh listener of 127.0.0.1, in a task: the address, the trigger that
    /// stops it, and the task.
    fn spawn_serve(
        max_connections: usize,
        grace: Duration,
        on_accept: impl FnMut(std::net::TcpStream, OwnedSemaphorePermit, &Ctx) + Send + 'static,
    ) -> (
        std::net::SocketAddr,
        oneshot::Sender<()>,
        JoinHandle<io::Result<ServeStats>>,
    ) {
        let listener = crate::net::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, max_connections, grace, stopped, on_accept));
        (addr, stop, server)
    }

    /// Each connection gets one line back, written by a task; the limit holds clients in the
    /// backlog; shutdown waits for the connection in progress within the grace period.
    #[tokio::test]
    async fn serves_within_the_limit_then_drains() {
        let (addr, stop, server) = spawn_serve(1, Duration::from_secs(5), |stream, permit, ctx| {
            ctx.tracker.spawn(async move {
                let mut s = TcpStream::from_std(stream).unwrap();
                let mut b = [0; 1];
                let _ = s.read(&mut b).await;
                let _ = s.write_all(b"bye\n").await;
                drop(permit);
            });
        });
        let mut a = TcpStream::connect(addr).await.unwrap();
        let mut b = TcpStream::connect(addr).await.unwrap();
        // Only one permit: b waits in the backlog until a is done.
        a.write_all(b"x").await.unwrap();
        let mut got = String::new();
        a.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "bye\n");
        b.write_all(b"y").await.unwrap();
        let mut got = String::new();
        b.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "bye\n");
        stop.send(()).unwrap();
        let stats = server.await.unwrap().unwrap();
        assert_eq!(
            stats,
            ServeStats {
                accepted: 2,
                cut_at_grace: 0
            }
        );
        assert!(TcpStream::connect(addr).await.is_err(), "still listening");
    }

    #[tokio::test]
    async fn abort_fires_after_the_grace_period() {
        let (addr, stop, server) =
            spawn_serve(8, Duration::from_millis(100), |stream, permit, ctx| {
                let abort = ctx.abort.clone();
                ctx.tracker.spawn(async move {
                    let _keep = (stream, permit);
                    abort.cancelled().await;
                });
            });
        let _client = TcpStream::connect(addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.send(()).unwrap();
        let stats = tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("the server stops after the grace period")
            .unwrap()
            .unwrap();
        assert_eq!(stats.cut_at_grace, 1);
    }
}
