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
}
