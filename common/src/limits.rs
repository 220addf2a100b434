//! Open-file limits: a client that downloads 10,000 poems, or a server that holds 10,000
//! connections, needs more descriptors than the usual soft limit of 1,024.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Raises the soft limit on open files to the hard limit and returns the soft limit now in
/// force (`u64::MAX` when unlimited). Never lowers it.
pub fn raise_fd_limit() -> u64 {
    let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
    let Some(current) = current else {
        return u64::MAX;
    };
    // An unlimited hard limit still cannot be exceeded past fs.nr_open; 1 Mi is its default.
    let target = maximum.unwrap_or(1 << 20);
    if target > current
        && setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(target),
                maximum,
            },
        )
        .is_ok()
    {
        return target;
    }
    current
}

/// An open-file limit too low for what a run wants ([`ensure_fd_limit`]). Displays as
/// `the open-file limit is <limit> (ulimit -n)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the open-file limit is {limit} (ulimit -n)")]
pub struct FdLimitShort {
    /// The soft limit in force, once raised.
    pub limit: u64,
    /// The descriptors wanted.
    pub wanted: u64,
}

/// Raises the soft limit on open files ([`raise_fd_limit`]) and checks that it leaves room for
/// `wanted` descriptors: answers the limit in force, or how short it falls.
pub fn ensure_fd_limit(wanted: u64) -> Result<u64, FdLimitShort> {
    let limit = raise_fd_limit();
    if limit < wanted {
        return Err(FdLimitShort { limit, wanted });
    }
    Ok(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_never_lowers() {
        let before = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
        let now = raise_fd_limit();
        assert!(now >= before);
        assert_eq!(getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX), now);
    }

    #[test]
    fn a_limit_too_low_says_so() {
        let limit = raise_fd_limit();
        assert_eq!(ensure_fd_limit(1), Ok(limit));
        if limit < u64::MAX {
            let short = ensure_fd_limit(limit + 1).unwrap_err();
            assert_eq!((short.limit, short.wanted), (limit, limit + 1));
            assert_eq!(
                short.to_string(),
                format!("the open-file limit is {limit} (ulimit -n)")
            );
        }
    }
}
