//! The whole life of a server binary once its options are checked, [`run_server`]: the runtime,
//! the signal handlers, the listener, the first line, serving until a signal, the summary.

use std::fmt::Display;
use std::future::Future;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::pin::Pin;

use crate::exit::Failure;
use crate::net::describe_io;
use crate::output::Out;

/// The shutdown trigger a server's run is handed: resolves on SIGINT or SIGTERM.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What a server listens with: a TCP listener or a UDP socket, which knows the address it got
/// (port 0 picks a free one).
pub trait Listening {
    /// The address listened on.
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

impl Listening for tokio::net::TcpListener {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        tokio::net::TcpListener::local_addr(self)
    }
}

impl Listening for tokio::net::UdpSocket {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        tokio::net::UdpSocket::local_addr(self)
    }
}

/// What every server binary does once its options are checked: start the runtime (`threads`
/// workers, [`crate::runtime::start`]), arm the SIGINT/SIGTERM handlers before listening,
/// `listen` (inside the runtime), print `first_line(<the address listened on>)` on `out`, run
/// `serve` until a signal, and say the line its stats make (`Display`) on stderr.
///
/// The first line is only an announcement: when stdout is closed (`server ... | head -1`), the
/// server goes on serving. Errors: `cannot start the async runtime: <why>`, `cannot install the
/// signal handlers: <why>`, `cannot read the address listened on: <why>` (exit 1), or what
/// `listen` and `serve` fail with.
pub fn run_server<L, B, F, S, E>(
    threads: usize,
    listen: impl AsyncFnOnce() -> Result<L, B>,
    first_line: impl FnOnce(SocketAddr) -> String,
    serve: impl FnOnce(L, Shutdown) -> F,
    out: &mut Out<impl Write>,
) -> Result<(), Failure>
where
    L: Listening,
    B: Into<Failure>,
    E: Into<Failure>,
    F: Future<Output = Result<S, E>>,
    S: Display,
{
    let runtime = crate::runtime::start(threads)?;
    runtime.block_on(async {
        let signal = crate::shutdown::install().map_err(|e| {
            Failure::runtime(format!(
                "cannot install the signal handlers: {}",
                describe_io(&e)
            ))
        })?;
        let shutdown: Shutdown = Box::pin(async move {
            let which = signal.await;
            tracing::info!("{which:?}: shutting down");
        });
        let listener = listen().await.map_err(Into::into)?;
        let addr = listener.local_addr().map_err(|e| {
            Failure::runtime(format!(
                "cannot read the address listened on: {}",
                describe_io(&e)
            ))
        })?;
        if let Err(e) = out.line(format_args!("{}", first_line(addr))) {
            tracing::debug!("cannot print the first line: {e}");
        }
        let stats = serve(listener, shutdown).await.map_err(Into::into)?;
        crate::exit::say(&stats.to_string());
        Ok(())
    })
}
