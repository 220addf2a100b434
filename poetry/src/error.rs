//! The crate's one error type: what the user asked for that could not be done, with the cause.

use std::io;
use std::path::PathBuf;

use common::exit::{ExitStatus, FAILURE, USAGE};
use common::net::{BindError, describe_io};
use common::output::{Closed, PrintError};

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
    /// The poem file is not a regular file (a device such as `/dev/zero`, a FIFO, a folder):
    /// refused before it is opened, so that nothing blocks or reads without end.
    #[error("{} is not a regular file", .0.display())]
    NotRegularFile(PathBuf),
    /// The poem file is larger than `--max-poem-size`.
    #[error("{}: poem larger than {max} bytes (--max-poem-size)", .path.display())]
    PoemFileTooLarge {
        /// The file as given.
        path: PathBuf,
        /// The limit.
        max: usize,
    },
    /// The poem file exists but cannot be read.
    #[error("cannot read the poem file {}: {}", .path.display(), describe_io(.cause))]
    ReadPoem {
        /// The file as given.
        path: PathBuf,
        /// Why.
        cause: io::Error,
    },
    /// The listening socket could not be set up (`cannot listen on <addr>: <why>`).
    #[error("{0}")]
    Listen(BindError),
    /// A listener handed to `run` could not be watched by the runtime.
    #[error("cannot watch the listening socket: {}", describe_io(.0))]
    Listener(io::Error),
    /// SIGINT/SIGTERM handlers could not be installed.
    #[error("cannot install the signal handlers: {}", describe_io(.0))]
    Signals(io::Error),
    /// The async runtime could not start (no descriptor for its reactor, no thread for a
    /// worker).
    #[error("cannot start the async runtime: {}", describe_io(.0))]
    Runtime(io::Error),
    /// A thread of the program's own could not start (poetry-client's downloads thread).
    #[error("cannot start the {what} thread: {}", describe_io(.cause))]
    Thread {
        /// Which thread.
        what: &'static str,
        /// Why (the system's thread limit, say).
        cause: io::Error,
    },
    /// Standard output was closed by its reader (`poetry-client ... | head -c1`): the program
    /// stops quietly with exit 0 (`common::cli::finish` knows [`Closed`] in the chain).
    #[error("{0}")]
    StdoutClosed(#[source] Closed),
    /// The poems could not be printed (a full disk, say).
    #[error("{0}")]
    Print(PrintError),
}

impl From<BindError> for Error {
    fn from(e: BindError) -> Self {
        Self::Listen(e)
    }
}

impl From<PrintError> for Error {
    fn from(e: PrintError) -> Self {
        match e {
            PrintError::Closed(closed) => Self::StdoutClosed(closed),
            other @ PrintError::Io(_) => Self::Print(other),
        }
    }
}

impl ExitStatus for Error {
    fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_)
            | Error::Address(_)
            | Error::NoSuchFile(_)
            | Error::NotRegularFile(_)
            | Error::PoemFileTooLarge { .. }
            | Error::ReadPoem { .. } => USAGE,
            _ => FAILURE,
        }
    }
}
