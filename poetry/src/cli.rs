//! What the four binaries share: the runtime, durations and limits from the command line, and
//! the servers' life: listen, print the first line scripts wait for, serve until a signal.

use std::fmt::Display;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::Error;

/// The async runtime: one thread (the servers' default: a poetry server's work is a few system
/// calls per connection, which one thread issues faster than two that hand work over), or a
/// multi-threaded one with `threads` workers.
pub fn runtime(threads: usize) -> Result<tokio::runtime::Runtime, Error> {
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    builder.enable_all().build().map_err(Error::Runtime)
}

/// A `--flag SECS` value as a duration: a finite number of seconds, at least 0.
pub fn seconds(flag: &str, secs: f64) -> Result<Duration, Error> {
    common::cli::duration_from_secs(secs, true).map_err(|e| Error::Usage(format!("{flag}: {e}")))
}

/// A `--timeout SECS` value: like [`seconds`], but more than 0.
pub fn timeout(flag: &str, secs: f64) -> Result<Duration, Error> {
    common::cli::duration_from_secs(secs, false).map_err(|e| Error::Usage(format!("{flag}: {e}")))
}

/// Prints the first line on stdout at once (scripts wait for it to learn the address).
fn announce(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A server's `--max-connections`: at least 1; by default 10,000, or fewer when the open-file
/// limit (raised to its hard limit first) is lower.
pub fn max_connections(arg: Option<usize>) -> Result<usize, Error> {
    let fd_limit = crate::limits::raise_fd_limit();
    match arg {
        Some(0) => Err(Error::Usage("--max-connections must be 1 or more".into())),
        Some(n) => Ok(n),
        None => Ok(crate::limits::default_max_connections(fd_limit)),
    }
}

/// The shutdown trigger handed to a server's `run`.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What the three server binaries do once their arguments are checked: start the runtime, arm
/// the signal handlers, listen on `addr`, print `first_line(<the address listened on>)`, run
/// the server until SIGINT or SIGTERM, and print `<name>: <its stats>` on stderr.
pub fn serve<S, F>(
    name: &str,
    threads: usize,
    addr: SocketAddr,
    first_line: impl FnOnce(SocketAddr) -> String,
    run: impl FnOnce(TcpListener, Shutdown) -> F,
) -> Result<(), Error>
where
    S: Display,
    F: Future<Output = Result<S, Error>>,
{
    runtime(threads)?.block_on(async {
        let signal = common::shutdown::install().map_err(Error::Signals)?;
        let shutdown: Shutdown = Box::pin(async move {
            let which = signal.await;
            tracing::info!("{which:?}: shutting down");
        });
        let listener = crate::bind(addr)?;
        announce(&first_line(listener.local_addr().unwrap_or(addr)));
        let stats = run(listener, shutdown).await?;
        eprintln!("{name}: {stats}");
        Ok(())
    })
}
