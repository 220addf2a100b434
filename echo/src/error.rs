//! The crate's one error type.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// What went wrong, naming what the user asked for; the cause is chained as the source.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad address argument (exit 2).
    #[error(transparent)]
    Addr(#[from] common::AddrError),

    /// Another usage mistake, such as `--connections 0` (exit 2).
    #[error("{0}")]
    Usage(String),

    /// The server could not listen.
    #[error("cannot listen on {addr}")]
    Bind {
        /// Where it tried to listen.
        addr: SocketAddr,
        /// Why it could not.
        #[source]
        source: io::Error,
    },

    /// The server's socket failed in a way that stops it.
    #[error("the server stopped on an error")]
    Serve(#[source] io::Error),

    /// No connection to the server (refused, unreachable).
    #[error("cannot connect to {addr}")]
    Connect {
        /// The server.
        addr: SocketAddr,
        /// Why it failed.
        #[source]
        source: io::Error,
    },

    /// The whole echo did not come back in time.
    #[error("no complete echo from {addr} within {}s ({got} of {want} bytes came back)", secs(*.timeout))]
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
    #[error("{addr} sent nothing for {}s after the input ended, and did not close", secs(*.timeout))]
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

    /// An I/O error while talking to a server, or on stdin/stdout.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        #[source]
        source: io::Error,
    },

    /// The benchmark saw errors (mismatched echoes, dropped connections).
    #[error("{0} error(s) during the benchmark, first: {1}")]
    BenchErrors(u64, String),
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

impl Error {
    /// An I/O error while doing `what`.
    pub fn io(what: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }
}

impl common::ExitStatus for Error {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Addr(_) | Self::Usage(_) => common::exit::USAGE,
            _ => common::exit::FAILURE,
        }
    }
}
