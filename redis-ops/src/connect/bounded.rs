//! The socket under every redis-crate connection, with bounds on what it lets through (issue
//! 22.4). The crate buffers a reply until it is whole, without a limit: a peer that answers the
//! handshake and then sends `+` and bytes without end, or an array without end, would take any
//! connection (multiplexed, subscriber, pooled, cluster) to gigabytes before its response
//! timeout. [`Bounded`] follows the RESP framing of the bytes as they are read
//! ([`Scanner`]), without copying or buffering them, and fails the read, so the connection, at
//! the first bound crossed ([`crate::link::scan`] lists them). A byte that starts no RESP
//! value is let through with at most 64 KiB after it: the crate's parser refuses it in its own
//! words and drops the connection.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub use crate::link::scan::{Overrun, Scanner};

/// A stream whose reads are followed by a [`Scanner`]: the read that crosses a bound fails
/// with a `ConnectionAborted` error carrying the [`Overrun`], and so does every read after it.
/// That kind is one the redis crate takes for a dropped connection: it fails what is in flight
/// and ends the connection at once (a reconnecting or cluster connection dials anew).
pub struct Bounded<S> {
    inner: S,
    scanner: Scanner,
    overrun: Option<Overrun>,
}

impl<S> Bounded<S> {
    /// Follows what is read from `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            scanner: Scanner::default(),
            overrun: None,
        }
    }
}

/// How the redis crate keeps the error inside one of its own.
type Shared = std::sync::Arc<dyn std::error::Error + Send + Sync>;

/// The bound a peer crossed, when that is what failed a redis-crate connection.
pub fn overrun_of(e: &redis::RedisError) -> Option<Overrun> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(o) = err.downcast_ref::<Overrun>() {
            return Some(*o);
        }
        // The crate keeps the I/O error in an `Arc<dyn Error>`, which shows itself as the
        // error inside but is not one to `downcast_ref`.
        let io = err.downcast_ref::<io::Error>().or_else(|| {
            err.downcast_ref::<Shared>()
                .and_then(|inner| inner.downcast_ref::<io::Error>())
        });
        if let Some(o) = io
            .and_then(io::Error::get_ref)
            .and_then(|i| i.downcast_ref::<Overrun>())
        {
            return Some(*o);
        }
        cur = err.source();
    }
    None
}

fn overrun_error(o: Overrun) -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, o)
}

impl<S: AsyncRead + Unpin> AsyncRead for Bounded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(o) = this.overrun {
            return Poll::Ready(Err(overrun_error(o)));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled
            && let Err(o) = this.scanner.feed(&buf.filled()[before..])
        {
            buf.set_filled(before);
            this.overrun = Some(o);
            return Poll::Ready(Err(overrun_error(o)));
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Bounded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::scan::MAX_LINE;
    #[test]
    fn an_overrun_is_found_inside_a_redis_error() {
        let e = redis::RedisError::from(overrun_error(Overrun::Depth));
        assert_eq!(overrun_of(&e), Some(Overrun::Depth));
        let other = redis::RedisError::from(io::Error::from(io::ErrorKind::ConnectionReset));
        assert_eq!(overrun_of(&other), None);
    }

    #[tokio::test]
    async fn the_read_that_crosses_a_bound_fails_and_so_do_the_next() {
        use tokio::io::AsyncReadExt;
        let mut data = b"+OK\r\n+".to_vec();
        data.extend(std::iter::repeat_n(b'a', MAX_LINE + 10));
        let mut stream = Bounded::new(&data[..]);
        let mut got = Vec::new();
        let e = stream.read_to_end(&mut got).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionAborted);
        assert!(redis::RedisError::from(overrun_error(Overrun::Line)).is_unrecoverable_error());
        assert_eq!(e.to_string(), Overrun::Line.to_string());
        assert!(got.len() <= MAX_LINE + 8, "{} bytes let through", got.len());
        assert!(got.starts_with(b"+OK\r\n"));
        let mut more = [0u8; 8];
        assert!(stream.read(&mut more).await.is_err());
    }
}
