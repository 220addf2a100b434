//! Exit codes, the errors that know theirs ([`ExitStatus`], [`Failure`]), and [`say`], the one
//! way a line goes to stderr.
//!
//! - [`SUCCESS`] (0): it worked.
//! - [`FAILURE`] (1): a runtime failure: unreachable server, lost data, a check that disagreed.
//! - [`USAGE`] (2): bad usage: argh's own errors, a bad address, a missing file.
//! - [`INTERRUPTED`] (130): a job cut short by Ctrl-C or SIGTERM, after cleaning up.
//!
//! A leaf: every module that gives an error its code imports this one, and it imports none of
//! theirs. The one-line report of a failure and the end of `main` are in [`crate::cli`]
//! ([`crate::cli::report`], [`crate::cli::finish`]).

use std::error::Error;

/// It worked.
pub const SUCCESS: u8 = 0;
/// A runtime failure.
pub const FAILURE: u8 = 1;
/// Bad usage.
pub const USAGE: u8 = 2;
/// A long-running command stopped by SIGINT or SIGTERM before it finished its job (128 + 2, the
/// shell's convention for Ctrl-C). It cleaned up and said what it did first. A command whose job
/// is to run until stopped (a server, a consumer without `--count`) exits [`SUCCESS`] instead.
pub const INTERRUPTED: u8 = 130;

/// An error that knows which exit code it deserves.
pub trait ExitStatus {
    /// [`FAILURE`] unless the error is the user's usage mistake ([`USAGE`]).
    fn exit_code(&self) -> u8 {
        FAILURE
    }
}

/// A boxed error with its exit code, for `main` functions that gather several error types.
#[derive(Debug)]
pub struct Failure {
    /// The exit code to leave with.
    pub code: u8,
    /// What went wrong.
    pub error: Box<dyn Error + Send + Sync + 'static>,
}

impl Failure {
    /// A runtime failure (exit 1).
    pub fn runtime(error: impl Into<Box<dyn Error + Send + Sync + 'static>>) -> Self {
        Self {
            code: FAILURE,
            error: error.into(),
        }
    }

    /// A job cut short by a signal (exit 130).
    pub fn interrupted(error: impl Into<Box<dyn Error + Send + Sync + 'static>>) -> Self {
        Self {
            code: INTERRUPTED,
            error: error.into(),
        }
    }

    /// A usage error (exit 2).
    pub fn usage(error: impl Into<Box<dyn Error + Send + Sync + 'static>>) -> Self {
        Self {
            code: USAGE,
            error: error.into(),
        }
    }
}

impl<E: Error + ExitStatus + Send + Sync + 'static> From<E> for Failure {
    fn from(e: E) -> Self {
        Self {
            code: e.exit_code(),
            error: Box::new(e),
        }
    }
}

/// Writes `line` and a newline on stderr, ignoring a closed stderr (a server whose stderr is a
/// closed pipe still stops cleanly: `eprintln!` would panic).
pub fn say(line: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("x")]
    struct Plain;
    impl ExitStatus for Plain {}

    #[test]
    fn codes() {
        let f: Failure = Plain.into();
        assert_eq!(f.code, FAILURE);
        let f: Failure = crate::addr::parse_connect_addr("x:y").unwrap_err().into();
        assert_eq!(f.code, USAGE);
        assert_eq!(Failure::usage("bad").code, USAGE);
    }
}
