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

/// The async runtime with `threads` workers ([`common::runtime::start`]: the threads are asked
/// for first, so a refusal is one line, not a hang or a panic).
fn runtime(threads: usize) -> Result<Runtime, Failure> {
    common::runtime::start(threads)
}

/// Warns when the open-file limit, once raised, leaves room for fewer than `wanted`
/// descriptors (`what` says what will then fall short).
fn fd_limit_for(wanted: u64, what: std::fmt::Arguments<'_>) {
    if let Err(short) = common::limits::ensure_fd_limit(wanted) {
        tracing::warn!("the open-file limit is {}: {what}", short.limit);
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
        let rt = runtime(2).unwrap();
        assert_eq!(rt.metrics().num_workers(), 2);
    }
}
