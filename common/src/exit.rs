//! Exit codes and the one-line error report every `main` prints.
//!
//! - [`SUCCESS`] (0): it worked.
//! - [`FAILURE`] (1): a runtime failure: unreachable server, lost data, a check that disagreed.
//! - [`USAGE`] (2): bad usage: argh's own errors, a bad address, a missing file.
//! - [`INTERRUPTED`] (130): a job cut short by Ctrl-C or SIGTERM, after cleaning up.
//!
//! A failure prints exactly one line on stderr, `error: <message>: <cause>: <cause>`, with every
//! URL password redacted; no panic, no backtrace.

use std::error::Error;
use std::process::ExitCode;

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

/// The one-line report of an error and its chain of causes: `error: a: b: c`.
///
/// A cause whose text the message already contains is not repeated. Line breaks are folded into
/// spaces, and any URL password is replaced by `***`.
pub fn report(err: &(dyn Error + 'static)) -> String {
    let mut line = String::from("error: ");
    line.push_str(&err.to_string());
    let mut cause = err.source();
    while let Some(c) = cause {
        // An I/O cause in short words (`connection refused`), as messages put it.
        let text = match c.downcast_ref::<std::io::Error>() {
            Some(io) => crate::net::describe_io(io),
            None => c.to_string(),
        };
        if !text.is_empty() && !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = c.source();
    }
    let folded: String = line
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    crate::redact::redact_all(&folded)
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

/// Ends `main`: `Ok` exits 0; an error prints its one-line [`report`] on stderr and exits with
/// its code. A closed standard output ([`crate::output::is_closed`]) is not a failure of a
/// command whose job is printing: it exits 0 and prints nothing. A usage error ([`USAGE`]) gets
/// a second line saying where the help is.
pub fn finish<E: Into<Failure>>(result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let f: Failure = e.into();
            if crate::output::is_closed(f.error.as_ref()) {
                return ExitCode::SUCCESS;
            }
            let mut text = report(f.error.as_ref());
            if f.code == USAGE {
                text.push('\n');
                text.push_str(&crate::cli::help_hint(None));
            }
            say(&text);
            ExitCode::from(f.code)
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
    use std::fmt;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);
    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn Error + 'static))
        }
    }
    impl ExitStatus for Layer {}

    #[test]
    fn chain_is_one_line() {
        let e = Layer(
            "cannot connect to redis://:secret@h:6379/0",
            Some(Box::new(Layer(
                "connection refused",
                Some(Box::new(Layer("os error\n111", None))),
            ))),
        );
        assert_eq!(
            report(&e),
            "error: cannot connect to redis://:***@h:6379/0: connection refused: os error 111"
        );
    }

    #[test]
    fn repeated_cause_is_not_printed_twice() {
        let e = Layer(
            "read failed: timed out",
            Some(Box::new(Layer("timed out", None))),
        );
        assert_eq!(report(&e), "error: read failed: timed out");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read the poem")]
    struct Read(#[source] std::io::Error);

    #[test]
    fn an_io_cause_is_in_short_words_and_not_repeated() {
        let e = crate::net::BindError {
            addr: "127.0.0.1:1".parse().unwrap(),
            source: std::io::Error::from_raw_os_error(98),
        };
        assert_eq!(
            report(&e),
            "error: cannot listen on 127.0.0.1:1: address already in use"
        );
        assert_eq!(
            report(&Read(std::io::Error::from_raw_os_error(111))),
            "error: cannot read the poem: connection refused"
        );
    }

    #[test]
    fn codes() {
        let f: Failure = Layer("x", None).into();
        assert_eq!(f.code, FAILURE);
        let f: Failure = crate::addr::parse_connect_addr("x:y").unwrap_err().into();
        assert_eq!(f.code, USAGE);
        assert_eq!(Failure::usage("bad").code, USAGE);
    }
}
