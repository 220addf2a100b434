//! The crate's one error type.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use common::duration::Short;
use common::net::describe_io;
use common::shutdown::Signal;

/// What went wrong, naming what the user asked for, in one line. An I/O cause is put in short
/// words ([`describe_io`]) in the message itself.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad address argument (exit 2).
    #[error(transparent)]
    Addr(#[from] common::AddrError),

    /// Another usage mistake, such as `--connections 0` (exit 2). The message carries no
    /// `error:` prefix of its own.
    #[error("{0}")]
    Usage(String),

    /// The server could not listen.
    #[error("cannot listen on {addr}: {}", describe_io(.cause))]
    Bind {
        /// Where it tried to listen.
        addr: SocketAddr,
        /// Why it could not.
        cause: io::Error,
    },

    /// The server's socket failed in a way that stops it.
    #[error("the server stopped on an error: {}", describe_io(.0))]
    Serve(io::Error),

    /// No connection to the server (refused, unreachable).
    #[error("cannot connect to {addr}: {}", describe_io(.cause))]
    Connect {
        /// The server.
        addr: SocketAddr,
        /// Why it failed.
        cause: io::Error,
    },

    /// The whole echo did not come back in time.
    #[error("no complete echo from {addr} within {} ({got} of {want} bytes came back)", Short(*.timeout))]
    Timeout {
        /// The server.
        addr: SocketAddr,
        /// The time allowed.
        timeout: Duration,
        /// Bytes received.
        got: usize,
        /// Bytes expected.
        want: usize,
    },

    /// After the input ended, the server stayed silent too long without closing.
    #[error("{addr} sent nothing for {} after the input ended, and did not close", Short(*.timeout))]
    Silent {
        /// The server.
        addr: SocketAddr,
        /// The time allowed.
        timeout: Duration,
    },

    /// The server sent back something else than what was sent.
    #[error("the echo from {addr} differs from what was sent, first at byte {offset}")]
    Mismatch {
        /// The server.
        addr: SocketAddr,
        /// Index of the first byte that differs.
        offset: usize,
    },

    /// The server closed the connection before the whole echo came back.
    #[error("{addr} closed the connection after echoing {got} of {want} bytes")]
    Closed {
        /// The server.
        addr: SocketAddr,
        /// Bytes received.
        got: usize,
        /// Bytes expected.
        want: usize,
    },

    /// An I/O error while talking to a server, or on stdin.
    #[error("{what}: {}", describe_io(.cause))]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        cause: io::Error,
    },

    /// Standard output could not be written ([`common::output::Closed`] when its reader went
    /// away: the program then stops quietly).
    #[error("{0}")]
    Print(#[from] common::output::PrintError),

    /// The benchmark saw errors (mismatched echoes, dropped connections).
    #[error("{0} error(s) during the benchmark, first: {1}")]
    BenchErrors(u64, String),

    /// The server stopped taking what was sent: a write made no progress for `timeout`.
    #[error("{addr} took nothing more of the input for {} ({sent} bytes sent so far)", Short(*.timeout))]
    NotReading {
        /// The server.
        addr: SocketAddr,
        /// The time allowed.
        timeout: Duration,
        /// Bytes it did take.
        sent: u64,
    },

    /// The input held something the run cannot send, such as a line longer than a UDP
    /// datagram (exit 1: the input is data, not usage).
    #[error("{0}")]
    Input(String),

    /// The machine refused a resource the run needs: open files, threads (exit 1).
    #[error("{0}")]
    Resource(String),

    /// SIGINT or SIGTERM stopped a run before it was done (exit 130). The message says which
    /// signal and what was done until then: `interrupted (SIGINT); 12 bytes sent ...`.
    #[error("interrupted ({signal}); {done}")]
    Interrupted {
        /// `SIGINT` or `SIGTERM`.
        signal: &'static str,
        /// What was done until then.
        done: String,
    },
}

impl Error {
    /// An I/O error while doing `what`.
    pub fn io(what: impl Into<String>, cause: io::Error) -> Self {
        Self::Io {
            what: what.into(),
            cause,
        }
    }

    /// A usage mistake, `message` without any `error:` prefix.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    /// A run stopped by `signal`; `done` says what it did until then.
    pub fn interrupted(signal: Signal, done: impl Into<String>) -> Self {
        Self::Interrupted {
            signal: match signal {
                Signal::Interrupt => "SIGINT",
                Signal::Terminate => "SIGTERM",
            },
            done: done.into(),
        }
    }
}

impl From<common::net::BindError> for Error {
    fn from(e: common::net::BindError) -> Self {
        Self::Bind {
            addr: e.addr,
            cause: e.source,
        }
    }
}

impl common::ExitStatus for Error {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Addr(_) | Self::Usage(_) => common::exit::USAGE,
            Self::Interrupted { .. } => common::exit::INTERRUPTED,
            _ => common::exit::FAILURE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_with_the_cause_in_short_words() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let e = Error::Connect {
            addr,
            cause: io::Error::from_raw_os_error(111),
        };
        assert_eq!(
            common::report(&e),
            "error: cannot connect to 127.0.0.1:9: connection refused"
        );
        let e = Error::Timeout {
            addr,
            timeout: Duration::from_millis(500),
            got: 0,
            want: 11,
        };
        assert_eq!(
            common::report(&e),
            "error: no complete echo from 127.0.0.1:9 within 500.0 ms (0 of 11 bytes came back)"
        );
        let e = Error::usage("--threads must be at least 1");
        assert_eq!(common::report(&e), "error: --threads must be at least 1");
        let e = Error::interrupted(Signal::Terminate, "2 lines sent");
        assert_eq!(
            common::report(&e),
            "error: interrupted (SIGTERM); 2 lines sent"
        );
        assert_eq!(common::ExitStatus::exit_code(&e), 130);
    }
}
