//! The echo server: every byte a client sends comes back, in order, unchanged.
//!
//! The accept loop is the workspace's ([`common::net::serve()`]): `max_connections` connections
//! at most (a permit is taken *before* `accept`, so a connection over the limit waits in the
//! kernel's listen queue until another one closes; it is not refused, unless that queue of
//! [`common::net::BACKLOG`] is full), a grace period and an abort at shutdown. What is echo's
//! own is one connection's life (the private `connection` module), which keeps an idle
//! connection cheap: no buffer while it waits, one scratch buffer per thread, backpressure when
//! a client does not read. `idle_timeout` closes a connection that has neither received nor sent
//! a byte for that long.
//!
//! Shutdown: when the `shutdown` future resolves the server stops accepting. A connection that
//! is idle closes at once ([`common::net::Ctx::stopping`]); one in the middle of an echo first
//! writes back everything it has received, then closes as soon as no more bytes are waiting.
//! Whatever is still open after `grace` is closed ([`common::net::Ctx::abort`]). [`run`] then
//! returns the [`Stats`].

mod connection;

use std::fmt::Write as _;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket};
use tracing::debug;

pub use connection::SCRATCH_SIZE;
use connection::{Shared, connection};

use crate::Error;

/// The most connections served at once (`--max-connections`): close to the most descriptors
/// Linux gives one process by default (`fs.nr_open`, 1,048,576).
pub const MAX_CONNECTIONS: usize = 1_000_000;

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Connections served at once; more wait in the kernel's listen queue. 1 to
    /// [`MAX_CONNECTIONS`].
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

/// Binds a UDP socket on `addr` (port 0 picks a free port). Must be called inside a runtime.
pub async fn bind_udp(addr: SocketAddr) -> Result<UdpSocket, Error> {
    UdpSocket::bind(addr)
        .await
        .map_err(|cause| Error::Bind { addr, cause })
}

/// Serves TCP echo on `listener` (from [`common::net::bind`]) until `shutdown` resolves, then
/// drains (see the module docs) and returns what was done.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future,
) -> Result<Stats, Error> {
    if config.max_connections == 0 {
        return Err(Error::usage("--max-connections must be at least 1"));
    }
    let idle_timeout = config.idle_timeout.filter(|d| !d.is_zero());
    let stopping = Arc::new(AtomicBool::new(false));
    let bytes = Arc::new(AtomicU64::new(0));
    // The flag goes up before `serve` fires `Ctx::stopping`, so a connection woken by the token
    // finds it up (see `connection::Stopped`).
    let flag = Arc::clone(&stopping);
    let shutdown = async move {
        shutdown.await;
        flag.store(true, Ordering::SeqCst);
    };
    // Made once, on the first connection: the tokens are the same for every connection, and
    // each connection holds one `Arc` to them all.
    let mut shared: Option<Arc<Shared>> = None;
    let served = common::net::serve(
        listener,
        config.max_connections,
        config.grace,
        shutdown,
        |stream, permit, ctx| {
            let shared = shared.get_or_insert_with(|| {
                Arc::new(Shared {
                    idle_timeout,
                    stopping: Arc::clone(&stopping),
                    stop: ctx.stopping.clone(),
                    force: ctx.abort.clone(),
                    bytes: Arc::clone(&bytes),
                })
            });
            match tokio::net::TcpStream::from_std(stream) {
                Ok(stream) => {
                    ctx.tracker
                        .spawn(connection(stream, Arc::clone(shared), permit));
                }
                Err(e) => debug!(
                    "cannot register a connection: {}",
                    common::net::describe_io(&e)
                ),
            }
        },
    )
    .await
    .map_err(Error::Serve)?;
    Ok(Stats {
        connections: served.accepted,
        datagrams: 0,
        bytes: bytes.load(Ordering::Relaxed),
        cut_at_grace: served.cut_at_grace,
    })
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
                    debug!("receive failed: {}", common::net::describe_io(&e));
                    continue;
                }
            },
        };
        match socket.send_to(&buf[..n], peer).await {
            Ok(_) => {
                stats.datagrams += 1;
                stats.bytes += n as u64;
            }
            Err(e) => debug!(
                %peer,
                "cannot send the echo back: {}",
                common::net::describe_io(&e)
            ),
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines() {
        let cases = [
            (
                (1, 0, 11, 0, false),
                "echo-server: stopped; 1 connection served, 11 bytes echoed",
            ),
            (
                (3, 0, 5, 2, false),
                "echo-server: stopped; 3 connections served, 5 bytes echoed, 2 connections cut at the end of the grace period",
            ),
            (
                (0, 2, 4, 0, true),
                "echo-server: stopped; 2 datagrams echoed, 4 bytes",
            ),
        ];
        for ((connections, datagrams, bytes, cut_at_grace, udp), line) in cases {
            let stats = Stats {
                connections,
                datagrams,
                bytes,
                cut_at_grace,
            };
            assert_eq!(stats.summary(udp), line);
        }
    }
}
