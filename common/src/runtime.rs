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
    builder.enable_all().build()
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
}
