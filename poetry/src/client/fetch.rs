//! One download ([`get_poem`]) and why it failed ([`FetchError`]): only the server's clean close
//! completes a poem, and never more than the largest poem accepted is held.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use common::net::describe_io;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpStream;

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The connection could not be made.
    #[error("{}", describe_io(.0))]
    Connect(io::Error),
    /// The connection was not made within the timeout.
    #[error("timed out connecting ({0:?})")]
    ConnectTimedOut(Duration),
    /// The server sent nothing for the timeout.
    #[error("timed out: nothing received for {timeout:?} after {got} bytes")]
    TimedOut {
        /// The timeout.
        timeout: Duration,
        /// Bytes received before.
        got: usize,
    },
    /// The server reset the connection: the poem is incomplete.
    #[error("connection reset after {got} bytes: the poem is incomplete")]
    Reset {
        /// Bytes received before.
        got: usize,
    },
    /// Reading failed otherwise.
    #[error("read failed after {got} bytes: {}", describe_io(.cause))]
    Read {
        /// Bytes received before.
        got: usize,
        /// Why.
        cause: io::Error,
    },
    /// The server closed the connection without sending anything.
    #[error("the server closed the connection without sending a poem")]
    Empty,
    /// The server sent more than the largest poem accepted (`--max-poem-size`): the download
    /// stops there, and the connection is dropped.
    #[error("poem larger than {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// SIGINT or SIGTERM stopped the download.
    #[error("interrupted")]
    Interrupted,
}

impl FetchError {
    /// The bytes that had arrived when the download failed: 0 means the server never began a
    /// poem (nothing listening, a close or a reset before any byte, silence).
    pub fn got(&self) -> usize {
        match self {
            Self::TimedOut { got, .. } | Self::Reset { got } | Self::Read { got, .. } => *got,
            Self::TooLarge { max } => max.saturating_add(1),
            Self::Connect(_) | Self::ConnectTimedOut(_) | Self::Empty | Self::Interrupted => 0,
        }
    }
}

/// Downloads one poem: connects, reads until the server's clean close. `timeout` bounds the
/// connection and every wait for more bytes (a slow server may take minutes in all, as long as
/// it keeps sending); more than `max_size` bytes fail the download
/// ([`FetchError::TooLarge`]). `on_bytes` hears the running total after each read.
pub async fn get_poem(
    addr: SocketAddr,
    timeout: Duration,
    max_size: usize,
    on_bytes: impl FnMut(usize),
) -> Result<Bytes, FetchError> {
    let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| FetchError::ConnectTimedOut(timeout))?
        .map_err(FetchError::Connect)?;
    read_poem(stream, timeout, max_size, on_bytes).await
}

/// Reads a poem from a connected stream (the part of [`get_poem`] after connecting). Never
/// holds more than `max` bytes and the one that proves the poem too large: memory stays
/// bounded whatever the server sends.
async fn read_poem(
    mut stream: impl AsyncRead + Unpin,
    timeout: Duration,
    max: usize,
    mut on_bytes: impl FnMut(usize),
) -> Result<Bytes, FetchError> {
    use bytes::BufMut;
    let mut poem = BytesMut::with_capacity(4096.min(max.saturating_add(1)));
    loop {
        let got = poem.len();
        if got > max {
            return Err(FetchError::TooLarge { max });
        }
        // Room for one byte past the limit, no more: that byte proves the poem too large.
        let room = max.saturating_add(1) - got;
        if poem.capacity() == got {
            poem.reserve(got.max(4096).min(room));
        }
        let mut limited = (&mut poem).limit(room);
        let read = tokio::time::timeout(timeout, stream.read_buf(&mut limited)).await;
        match read {
            Err(_) => return Err(FetchError::TimedOut { timeout, got }),
            Ok(Ok(0)) if got == 0 => return Err(FetchError::Empty),
            Ok(Ok(0)) => return Ok(poem.freeze()),
            Ok(Ok(_)) => on_bytes(poem.len()),
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset => {
                return Err(FetchError::Reset { got });
            }
            Ok(Err(cause)) => return Err(FetchError::Read { got, cause }),
        }
    }
}
