//! The bounds of every count and size option, and open-file limits: a client that downloads
//! 10,000 poems, or a server that holds 10,000 connections, needs more descriptors than the usual
//! soft limit of 1,024.
//!
//! Each bound is checked when the command line is turned into options, before anything is
//! allocated or connected; a value over it is a usage error naming it
//! (`error: --concurrency must be at most 1000000`).

pub use common::limits::raise_fd_limit;

/// Descriptors kept free for everything that is not a connection (stdio, the runtime, logs).
pub const RESERVED_FDS: u64 = 64;

/// The most connections a server serves at once (`--max-connections`) and the most downloads
/// the client runs at once (`--concurrency`): the default most open files a Linux process may
/// have (`fs.nr_open`, 1,048,576), rounded down.
pub const MAX_CONNECTIONS: usize = 1_000_000;

/// The most addresses one poetry-client run takes (the benchmark uses 10,000).
pub const MAX_ADDRESSES: usize = 100_000;

/// The default `--max-poem-size`: far beyond any poem (the longest shipped is 3 KB), small
/// enough that a server that never stops sending costs a few times this in memory at most.
pub const DEFAULT_MAX_POEM_SIZE: usize = 16 << 20;

/// The largest `--max-poem-size` (and poetry-transform's `--max-length`, and poetry-server's
/// `--num-bytes`): 1 GiB.
pub const MAX_POEM_SIZE: usize = 1 << 30;

/// The client's default `--concurrency`: generous, but below the open-file limit.
pub fn default_concurrency(fd_limit: u64) -> usize {
    fd_limit.saturating_sub(RESERVED_FDS).clamp(1, 1_000) as usize
}

/// A server's default `--max-connections`: below the open-file limit.
pub fn default_max_connections(fd_limit: u64) -> usize {
    fd_limit.saturating_sub(RESERVED_FDS).clamp(1, 10_000) as usize
}

/// The most connections the open-file limit allows at once.
pub fn max_sockets(fd_limit: u64) -> usize {
    fd_limit
        .saturating_sub(RESERVED_FDS)
        .clamp(1, MAX_CONNECTIONS as u64) as usize
}

/// Checks a count or size option against its bounds: `--<option> must be 1 or more` (when
/// `least` is 1) or `--<option> must be at most <most>`.
pub fn check(option: &str, value: usize, least: usize, most: usize) -> Result<usize, String> {
    if value < least {
        Err(format!("--{option} must be {least} or more"))
    } else if value > most {
        Err(format!("--{option} must be at most {most}"))
    } else {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_stay_below_the_limit() {
        assert_eq!(default_concurrency(1_024), 960);
        assert_eq!(default_concurrency(20_000), 1_000);
        assert_eq!(default_concurrency(10), 1);
        assert_eq!(default_max_connections(1_024), 960);
        assert_eq!(default_max_connections(u64::MAX), 10_000);
        assert_eq!(max_sockets(u64::MAX), MAX_CONNECTIONS);
    }

    #[test]
    fn bounds_name_the_option() {
        assert_eq!(check("x", 5, 1, 10), Ok(5));
        assert_eq!(check("x", 0, 1, 10).unwrap_err(), "--x must be 1 or more");
        assert_eq!(check("x", 11, 1, 10).unwrap_err(), "--x must be at most 10");
        assert_eq!(check("x", 0, 0, 10), Ok(0));
    }
}
