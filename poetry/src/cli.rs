//! What the four binaries share: the runtime, durations from the command line, the first line
//! scripts wait for, the shutdown signal.

use std::future::Future;
use std::io::Write;
use std::time::Duration;

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
    Duration::try_from_secs_f64(secs)
        .map_err(|_| Error::Usage(format!("{flag} must be a number of seconds, 0 or more")))
}

/// A `--timeout SECS` value: like [`seconds`], but more than 0.
pub fn timeout(flag: &str, secs: f64) -> Result<Duration, Error> {
    match seconds(flag, secs)? {
        d if d.is_zero() => Err(Error::Usage(format!("{flag} must be more than 0 seconds"))),
        d => Ok(d),
    }
}

/// Prints the first line on stdout at once (scripts wait for it to learn the address).
pub fn announce(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Arms the SIGINT/SIGTERM handlers now; the future resolves on the first signal. Call it
/// inside the runtime, before announcing the server.
pub fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static, Error> {
    let signal = common::shutdown::install().map_err(Error::Signals)?;
    Ok(async move {
        let which = signal.await;
        tracing::info!("{which:?}: shutting down");
    })
}
