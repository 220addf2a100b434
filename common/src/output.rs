//! The stdout writer every command prints through: a closed pipe (`tool | head -1`) ends the
//! printing quietly instead of panicking, as ripgrep and the classic Unix tools do.
//!
//! [`Out`] turns a write that fails with `BrokenPipe` into [`Closed`]. A command whose job is
//! printing lets `Closed` travel up: [`crate::cli::finish`] exits 0 and prints nothing for it.
//! A producer (a command whose job is sending) catches it and says what it did not send.

use std::fmt;
use std::io::{self, Write};

/// Standard output was closed by the reader: nothing more can be printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("standard output was closed")]
pub struct Closed;

/// A failure to print: the reader went away ([`Closed`]) or another I/O error.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// The reader closed the pipe.
    #[error(transparent)]
    Closed(#[from] Closed),
    /// Any other write error (a full disk, say).
    #[error("cannot write to standard output: {}", crate::net::describe_io(.0))]
    Io(#[source] io::Error),
}

impl From<io::Error> for PrintError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Self::Closed(Closed)
        } else {
            Self::Io(e)
        }
    }
}

impl crate::exit::ExitStatus for PrintError {}

/// A writer for program output: line-buffered use, errors as [`PrintError`].
#[derive(Debug)]
pub struct Out<W: Write> {
    inner: W,
}

impl Out<io::StdoutLock<'static>> {
    /// The process's standard output.
    pub fn stdout() -> Self {
        Self::new(io::stdout().lock())
    }
}

impl<W: Write> Out<W> {
    /// Output into `inner` (a test's `Vec<u8>`, say).
    pub fn new(inner: W) -> Self {
        Self { inner }
    }

    /// Writes `args` and a newline, and flushes, so that a reader sees the line at once.
    pub fn line(&mut self, args: fmt::Arguments<'_>) -> Result<(), PrintError> {
        self.inner.write_fmt(args)?;
        self.inner.write_all(b"\n")?;
        self.inner.flush()?;
        Ok(())
    }

    /// Writes raw bytes (no newline added) without flushing.
    pub fn bytes(&mut self, data: &[u8]) -> Result<(), PrintError> {
        Ok(self.inner.write_all(data)?)
    }

    /// Flushes what was written.
    pub fn flush(&mut self) -> Result<(), PrintError> {
        Ok(self.inner.flush()?)
    }

    /// The writer inside.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

/// `true` when `e`, or any error in its chain of causes, is [`Closed`] or a `BrokenPipe` I/O
/// error: the reader of our output went away.
pub fn is_closed(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.is::<Closed>() || matches!(c.downcast_ref::<PrintError>(), Some(PrintError::Closed(_)))
        {
            return true;
        }
        cause = c.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    struct ClosedPipe;
    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("printing failed")]
    struct Wrapper(#[source] PrintError);

    #[test]
    fn lines_and_a_closed_pipe() {
        let mut out = Out::new(Vec::new());
        out.line(format_args!("a {}", 1)).unwrap();
        out.bytes(b"b").unwrap();
        assert_eq!(out.into_inner(), b"a 1\nb");

        let mut out = Out::new(ClosedPipe);
        let err = out.line(format_args!("x")).unwrap_err();
        assert!(matches!(err, PrintError::Closed(Closed)));
        assert!(is_closed(&err));

        assert!(is_closed(&Wrapper(err)));
        assert!(!is_closed(&io::Error::other("x")));
    }
}
