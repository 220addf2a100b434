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
    // tokio panics when the system refuses a worker thread: that is an error here, not a
    // panic (the hook is silenced meanwhile so that nothing is printed).
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| builder.build()));
    std::panic::set_hook(hook);
    built.unwrap_or_else(|panic| Err(refused_thread(panic.as_ref())))
}

/// The cause in tokio's panic (`OS can't spawn worker thread: <why> (os error 11)`) as an I/O
/// error.
fn refused_thread(panic: &(dyn std::any::Any + Send)) -> io::Error {
    let text = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("no worker thread");
    let code = text
        .rsplit_once("(os error ")
        .and_then(|(_, code)| code.trim_end_matches(')').parse().ok());
    match code {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::other(text.to_owned()),
    }
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

    #[test]
    fn a_refused_thread_is_an_error() {
        let e = refused_thread(&String::from(
            "OS can't spawn worker thread: Resource temporarily unavailable (os error 11)",
        ));
        assert_eq!(e.raw_os_error(), Some(11));
        assert_eq!(refused_thread(&"odd").to_string(), "odd");
    }
}
