//! [`TlsError`]: what is wrong with the TLS flags or files, and its exit code.

use std::io;
use std::path::PathBuf;

/// What is wrong with the TLS flags or files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// `--cert` without `--key`.
    #[error("--cert needs --key (the private key of the client certificate)")]
    CertWithoutKey,
    /// `--key` without `--cert`.
    #[error("--key needs --cert (the client certificate)")]
    KeyWithoutCert,
    /// A file that cannot be read.
    #[error("cannot read {flag} '{}'", path.display())]
    Read {
        /// `--cacert`, `--cert` or `--key`.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A file that is not a regular file (a device such as `/dev/zero`, a FIFO, a folder):
    /// refused before it is opened.
    #[error("cannot read {flag} '{}': not a regular file", path.display())]
    NotRegular {
        /// `--cacert`, `--cert` or `--key`.
        flag: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// A file larger than [`MAX_PEM_FILE`](super::MAX_PEM_FILE): refused before it is read.
    #[error("cannot read {flag} '{}': larger than {max} bytes", path.display())]
    TooLarge {
        /// `--cacert`, `--cert` or `--key`.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// The bound.
        max: usize,
    },
    /// A file without what it should hold (never quoting its content).
    #[error("{flag} '{}': {problem}", path.display())]
    Bad {
        /// `--cacert`, `--cert` or `--key`.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// No `--cacert`, and the system's roots cannot be loaded.
    #[error(
        "cannot load the system's trusted certificates ({detail}): give the server's CA with --cacert"
    )]
    SystemRoots {
        /// What rustls-native-certs said.
        detail: String,
    },
    /// rustls refused the configuration.
    #[error("cannot set up TLS")]
    Config(#[source] rustls::Error),
}

impl crate::exit::ExitStatus for TlsError {
    /// The flags and files are the user's: [`USAGE`](crate::exit::USAGE) (exit 2, as for any
    /// missing file); the system's roots and rustls' refusals are [`FAILURE`](crate::exit::FAILURE).
    fn exit_code(&self) -> u8 {
        match self {
            Self::CertWithoutKey
            | Self::KeyWithoutCert
            | Self::Read { .. }
            | Self::NotRegular { .. }
            | Self::TooLarge { .. }
            | Self::Bad { .. } => crate::exit::USAGE,
            Self::SystemRoots { .. } | Self::Config(_) => crate::exit::FAILURE,
        }
    }
}
