//! The three binaries' command lines: each module holds the argh structure (its doc comment is the
//! `--help` text), turns it into typed options with every bound checked before anything is
//! connected or allocated, and runs them (`run(args, out)`). The binaries only parse, set up
//! logging and map the result to an exit code.
//!
//! - [`server`], `echo-server`;
//! - [`client`], `echo-client`;
//! - [`bench`](mod@bench), `echo-bench`.

pub mod bench;
pub mod client;
pub mod server;

use common::exit::Failure;
use common::runtime::MAX_THREADS;
use tokio::runtime::Runtime;

use crate::Error;

/// The default address of every binary: the notes' port 1234 on 127.0.0.1.
const DEFAULT_ADDR: &str = "127.0.0.1:1234";

/// A `--threads` count: 1 to [`MAX_THREADS`].
fn threads(n: usize) -> Result<usize, Error> {
    match n {
        0 => Err(Error::usage("--threads must be at least 1")),
        n if n > MAX_THREADS => Err(Error::usage(format!(
            "--threads must be at most {MAX_THREADS}"
        ))),
        n => Ok(n),
    }
}

/// The stack of a tokio worker thread (tokio's default): what [`runtime`] asks for per thread.
const WORKER_STACK: usize = 2 * 1024 * 1024;

/// The async runtime with `threads` workers ([`common::runtime::start`]). Tokio panics when the
/// system refuses a worker thread (a low `ulimit -u` or `ulimit -v`), and the partly built
/// runtime then waits forever for the workers it did start, so `common::runtime::build` hangs
/// there. For more than one thread the threads are therefore first asked for and given back:
/// a refusal is one line, `cannot start 1024 threads (the system gave 15): resource temporarily
/// unavailable` (exit 1).
fn runtime(threads: usize) -> Result<Runtime, Failure> {
    if threads > 1 {
        try_threads(threads).map_err(|(started, e)| {
            Error::Resource(format!(
                "cannot start {threads} threads (the system gave {started}): {}",
                common::net::describe_io(&e)
            ))
        })?;
    }
    common::runtime::start(threads)
}

/// Starts `n` threads with a worker's stack, waits until all are up, lets them end. On a
/// refusal: how many had started, and why.
fn try_threads(n: usize) -> Result<(), (usize, std::io::Error)> {
    let gate = std::sync::Arc::new(std::sync::RwLock::new(()));
    let closed = gate.write().expect("a new lock");
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
    refused.map_or(Ok(()), |e| Err((count, e)))
}

/// Warns when the open-file limit, once raised, leaves room for fewer than `wanted`
/// descriptors (`what` says what will then fall short).
fn fd_limit_for(wanted: u64, what: std::fmt::Arguments<'_>) {
    let limit = common::limits::raise_fd_limit();
    if limit < wanted {
        tracing::warn!("the open-file limit is {limit}: {what}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts() {
        assert_eq!(threads(1).unwrap(), 1);
        assert_eq!(threads(MAX_THREADS).unwrap(), MAX_THREADS);
        assert_eq!(
            threads(0).unwrap_err().to_string(),
            "--threads must be at least 1"
        );
        assert_eq!(
            threads(MAX_THREADS + 1).unwrap_err().to_string(),
            "--threads must be at most 1024"
        );
    }

    #[test]
    fn threads_are_asked_for_and_given_back() {
        assert!(try_threads(8).is_ok());
        let rt = runtime(2).unwrap();
        assert_eq!(rt.metrics().num_workers(), 2);
    }
}
