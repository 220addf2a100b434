//! The four binaries' command lines: each `Args` (argh) is checked and turned into the typed
//! options of the library before anything is connected, then run; `src/bin/*.rs` only parse,
//! set up logging, call `run` and map its result to an exit code.
//!
//! - [`server`], [`transform`], [`proxy`]: the servers, which share one life
//!   ([`common::server::run_server`], echo-server's too): listen, print the first line scripts
//!   wait for, serve until SIGINT or SIGTERM, print a summary (their stats' `Display`);
//! - [`client`]: poetry-client, its progress on stderr (`console`) and its poems (or, with
//!   `--json`, its checks) on stdout.

pub mod client;
mod console;
pub mod proxy;
pub mod server;
pub mod transform;

use tokio::runtime::Runtime;

use crate::{Error, limits};

/// A server's `--max-connections`: 1 to [`limits::MAX_CONNECTIONS`]; by default 10,000, or
/// fewer when the open-file limit (raised to its hard limit first) is lower.
fn max_connections(arg: Option<usize>) -> Result<usize, Error> {
    if let Some(n) = arg {
        return limits::check("max-connections", n, 1, limits::MAX_CONNECTIONS)
            .map_err(Error::Usage);
    }
    Ok(limits::default_max_connections(limits::raise_fd_limit()))
}

/// A `--max-poem-size`: 1 to [`limits::MAX_POEM_SIZE`].
fn max_poem_size(n: usize) -> Result<usize, Error> {
    limits::check("max-poem-size", n, 1, limits::MAX_POEM_SIZE).map_err(Error::Usage)
}

/// The runtime with `threads` workers (`common::runtime::build`: a worker thread the system
/// refuses is an error, not a panic).
fn runtime(threads: usize) -> Result<Runtime, Error> {
    common::runtime::build(threads).map_err(Error::Runtime)
}
