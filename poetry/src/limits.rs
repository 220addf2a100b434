//! Open-file limits: a client that downloads 10,000 poems, or a server that holds 10,000
//! connections, needs more descriptors than the usual soft limit of 1,024.

pub use common::limits::raise_fd_limit;

/// Descriptors kept free for everything that is not a connection (stdio, the runtime, logs).
pub const RESERVED_FDS: u64 = 64;

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
        .clamp(1, usize::MAX as u64) as usize
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
    }
}
