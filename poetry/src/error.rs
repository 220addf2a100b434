//! The crate's one error type: what the user asked for that could not be done, with the cause.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use common::exit::{ExitStatus, FAILURE, USAGE};

/// What went wrong, named after what the user did or what failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command line that asks for something impossible (the message says what).
    #[error("{0}")]
    Usage(String),
    /// An address argument that does not parse.
    #[error(transparent)]
    Address(#[from] common::AddrError),
    /// The poem file does not exist.
    #[error("No such file: {}", .0.display())]
    NoSuchFile(PathBuf),
    /// The poem file exists but cannot be read.
    #[error("cannot read the poem file {}", .path.display())]
    ReadPoem {
        /// The file as given.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The listening socket could not be set up.
    #[error("cannot listen on {addr}")]
    Listen {
        /// Where we tried to listen.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A listener handed to `run` could not be watched by the runtime.
    #[error("cannot watch the listening socket")]
    Listener(#[source] io::Error),
    /// SIGINT/SIGTERM handlers could not be installed.
    #[error("cannot install the signal handlers")]
    Signals(#[source] io::Error),
    /// The poems could not be written to stdout.
    #[error("cannot write the poems to stdout")]
    Stdout(#[source] io::Error),
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] io::Error),
}

impl ExitStatus for Error {
    fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Address(_) | Error::NoSuchFile(_) | Error::ReadPoem { .. } => {
                USAGE
            }
            _ => FAILURE,
        }
    }
}
