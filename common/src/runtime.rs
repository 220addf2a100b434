//! The one async runtime builder every binary uses.
//!
//! One thread is the default for the lessons: a server's work per connection is a few system
//! calls, which one thread issues faster than two that hand work over. `threads > 1` gives a
//! multi-threaded runtime with that many workers (see [`MAX_THREADS`]).

use std::io;

use tokio::runtime::{Builder, Runtime};

/// The most worker threads any `--threads` option accepts: far beyond the cores of any machine
/// these tools run on, and small enough that asking for it cannot exhaust memory.
pub const MAX_THREADS: usize = 1024;

/// A runtime with `threads` workers: a current-thread runtime for 0 or 1, a multi-threaded one
/// above. Counts over [`MAX_THREADS`] are refused (validate options before calling).
pub fn build(threads: usize) -> io::Result<Runtime> {
    if threads > MAX_THREADS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{threads} threads is more than {MAX_THREADS}"),
        ));
    }
    let mut builder = if threads <= 1 {
        Builder::new_current_thread()
    } else {
        let mut b = Builder::new_multi_thread();
        b.worker_threads(threads).thread_name("lessons-worker");
        b
    };
    builder.enable_all();
    if threads > 1 {
        try_threads(threads)?;
    }
    builder.build()
}

/// The same as [`build`], as a described error: `cannot start the async runtime: <cause>`.
pub fn start(threads: usize) -> Result<Runtime, crate::exit::Failure> {
    build(threads).map_err(|e| {
        crate::exit::Failure::runtime(format!(
            "cannot start the async runtime: {}",
            crate::net::describe_io(&e)
        ))
    })
}

/// The stack of a tokio worker thread (tokio's default).
const WORKER_STACK: usize = 2 * 1024 * 1024;

/// Asks the system for `n` threads with a worker's stack, waits until all are up, and gives them
/// back. tokio panics when the system refuses a worker thread (a low `ulimit -u` or `ulimit
/// -v`), and its partly built runtime then waits forever for the workers it did start: asking
/// first turns that into an error, `the system gave 15 of 1024 worker threads: resource
/// temporarily unavailable`.
fn try_threads(n: usize) -> io::Result<()> {
    let gate = std::sync::Arc::new(std::sync::RwLock::new(()));
    let closed = gate
        .write()
        .map_err(|_| io::Error::other("a poisoned lock"))?;
    let mut started = Vec::with_capacity(n);
    let mut refused = None;
    for _ in 0..n {
        let gate = std::sync::Arc::clone(&gate);
        let spawned = std::thread::Builder::new()
            .stack_size(WORKER_STACK)
            .spawn(move || drop(gate.read()));
        match spawned {
            Ok(handle) => started.push(handle),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    drop(closed);
    let count = started.len();
    for handle in started {
        let _ = handle.join();
    }
    match refused {
        None => Ok(()),
        Some(e) => Err(io::Error::other(format!(
            "the system gave {count} of {n} worker threads: {}",
            crate::net::describe_io(&e)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_thread_or_many() {
        let rt = build(1).unwrap();
        assert_eq!(rt.block_on(async { 1 + 1 }), 2);
        let rt = build(2).unwrap();
        assert_eq!(rt.metrics().num_workers(), 2);
        assert!(build(MAX_THREADS + 1).is_err());
    }

    #[test]
    fn threads_are_asked_for_first() {
        assert!(try_threads(8).is_ok());
    }
}
