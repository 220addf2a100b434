//! The poetry transformation service of the tutorial (`transformedpoetry.py`): a client sends
//! one netstring, `<len>:<transform>.<poem>,`; the server answers `<len>:<new poem>,` and closes.
//! The one transform is `cummingsify`, which lowercases the poem (Unicode-aware):
//! `27:cummingsify.HERE IS MY POEM,` gets `15:here is my poem,`.
//!
//! A request the server cannot honour (bad framing, no `.`, an unknown transform, a poem that is
//! not UTF-8, a length over the limit) is logged and the connection closed without a reply.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use common::net::{Ctx, describe_io};

use crate::Error;
use crate::netstring::{self, Frame, NetstringError};
use crate::reply::{self, Cut, peer_name};

/// The transforms the service knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// Lowercase everything, in the manner of e. e. cummings.
    Cummingsify,
}

impl Transform {
    /// The transform called `name` in a request.
    pub fn from_name(name: &[u8]) -> Option<Self> {
        match name {
            b"cummingsify" => Some(Self::Cummingsify),
            _ => None,
        }
    }

    /// Its name in a request.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cummingsify => "cummingsify",
        }
    }

    /// Applies it.
    pub fn apply(self, poem: &str) -> String {
        match self {
            Self::Cummingsify => poem.to_lowercase(),
        }
    }
}

/// Why a request was refused (the server closes without a reply), or why a client's transform
/// failed.
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    /// The bytes are not a netstring, or a too long one.
    #[error(transparent)]
    Framing(#[from] NetstringError),
    /// The payload has no `.` between the transform's name and the poem.
    #[error("no '.' after the transform's name")]
    MissingDot,
    /// The transform is not one the service knows.
    #[error("unknown transform '{0}'")]
    UnknownTransform(String),
    /// The poem is not UTF-8.
    #[error("the poem is not valid UTF-8")]
    InvalidUtf8,
    /// The connection ended before a whole netstring.
    #[error("the connection closed in the middle of the netstring")]
    Truncated,
    /// The other side closed without a reply: the service refused the request.
    #[error("the service closed the connection without a reply")]
    NoReply,
    /// Nothing happened for too long.
    #[error("timed out after {0:?}")]
    TimedOut(Duration),
    /// The connection could not be made.
    #[error("{}", describe_io(.0))]
    Connect(io::Error),
    /// The connection failed.
    #[error("{}", describe_io(.0))]
    Io(#[from] io::Error),
}

/// Splits a request's payload into its transform and its poem.
pub fn parse_request(payload: &[u8]) -> Result<(Transform, &str), TransformError> {
    let dot = payload
        .iter()
        .position(|&b| b == b'.')
        .ok_or(TransformError::MissingDot)?;
    let (name, poem) = (&payload[..dot], &payload[dot + 1..]);
    let transform = Transform::from_name(name).ok_or_else(|| {
        let mut shown: String = String::from_utf8_lossy(name).chars().take(40).collect();
        if name.len() > 40 {
            shown.push('…');
        }
        TransformError::UnknownTransform(shown)
    })?;
    let poem = std::str::from_utf8(poem).map_err(|_| TransformError::InvalidUtf8)?;
    Ok((transform, poem))
}

/// The transform service's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The longest netstring payload accepted, in bytes (the tutorial's 99,999).
    pub max_length: usize,
    /// A client that sends nothing (or takes nothing) for this long is dropped.
    pub timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// After a shutdown request, how long requests in progress may take.
    pub grace: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_length: 99_999,
            timeout: Duration::from_secs(30),
            max_connections: 10_000,
            grace: Duration::from_secs(5),
        }
    }
}

/// What the service did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted.
    pub connections: u64,
    /// Requests answered.
    pub transformed: u64,
    /// Requests refused (closed without a reply).
    pub rejected: u64,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "poetry-transform: transformed {} poem(s), rejected {} request(s), {} connection(s)",
            self.transformed, self.rejected, self.connections
        )
    }
}

#[derive(Default)]
struct Counters {
    transformed: AtomicU64,
    rejected: AtomicU64,
}

/// Serves transforms on `listener` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<Stats, Error> {
    let counters = Arc::new(Counters::default());
    let on_accept = |stream: std::net::TcpStream, permit, ctx: &Ctx| {
        let (counters, abort, config) = (counters.clone(), ctx.abort.clone(), config.clone());
        ctx.tracker.spawn(async move {
            let peer = stream.peer_addr();
            match handle(stream, &config, &abort).await {
                Ok(transform) => {
                    counters.transformed.fetch_add(1, Relaxed);
                    tracing::debug!("{}: {} done", peer_name(peer), transform.name());
                }
                Err(Refused::Request(e)) => {
                    counters.rejected.fetch_add(1, Relaxed);
                    tracing::warn!("rejected a request from {}: {e}", peer_name(peer));
                }
                Err(Refused::Cut(cut)) => {
                    counters.rejected.fetch_add(1, Relaxed);
                    tracing::info!("dropped {}: {cut}", peer_name(peer));
                }
            }
            drop(permit);
        });
    };
    let served = common::net::serve(
        listener,
        config.max_connections,
        config.grace,
        shutdown,
        on_accept,
    )
    .await
    .map_err(Error::Listener)?;
    Ok(Stats {
        connections: served.accepted,
        transformed: counters.transformed.load(Relaxed),
        rejected: counters.rejected.load(Relaxed),
    })
}

enum Refused {
    Request(TransformError),
    Cut(Cut),
}

async fn handle(
    stream: std::net::TcpStream,
    config: &Config,
    abort: &CancellationToken,
) -> Result<Transform, Refused> {
    let mut stream = TcpStream::from_std(stream).map_err(|e| Refused::Cut(Cut::Failed(e)))?;
    let mut buf = BytesMut::with_capacity(4096);
    let (transform, poem) = loop {
        match netstring::decode(&buf, config.max_length) {
            Ok(Frame::Complete { payload, .. }) => {
                break parse_request(payload).map_err(Refused::Request)?;
            }
            Ok(Frame::Incomplete) => {}
            Err(e) => return Err(Refused::Request(e.into())),
        }
        let read = tokio::select! {
            biased;
            () = abort.cancelled() => return Err(Refused::Cut(Cut::Aborted)),
            r = tokio::time::timeout(config.timeout, stream.read_buf(&mut buf)) => r,
        };
        match read {
            Err(_) => return Err(Refused::Request(TransformError::TimedOut(config.timeout))),
            Ok(Err(e)) => return Err(Refused::Cut(Cut::Failed(e))),
            Ok(Ok(0)) => return Err(Refused::Request(TransformError::Truncated)),
            Ok(Ok(_)) => {}
        }
    };
    let framed = netstring::encode(&[transform.apply(poem).as_bytes()]);
    match reply::write_all(&mut stream, &framed, config.timeout, abort).await {
        Ok(()) => Ok(transform),
        Err(cut) => {
            reply::reset(stream);
            Err(Refused::Cut(cut))
        }
    }
}

/// Asks the service at `addr` to apply `transform` to `poem`; `timeout` bounds the connection
/// and each wait for a reply.
pub async fn request(
    addr: SocketAddr,
    transform: Transform,
    poem: &[u8],
    timeout: Duration,
) -> Result<Bytes, TransformError> {
    let mut stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| TransformError::TimedOut(timeout))?
        .map_err(TransformError::Connect)?;
    let request = netstring::encode(&[transform.name().as_bytes(), b".", poem]);
    tokio::time::timeout(timeout, stream.write_all(&request))
        .await
        .map_err(|_| TransformError::TimedOut(timeout))??;
    let mut buf = BytesMut::with_capacity(poem.len() + poem.len() / 2 + 16);
    loop {
        // Lowercasing grows a text by half at most (`İ`, 2 bytes, becomes `i̇`, 3).
        let max_reply = poem.len().saturating_mul(2).saturating_add(64);
        if let Frame::Complete { payload, used } = netstring::decode(&buf, max_reply)? {
            let len = payload.len();
            let start = used - 1 - len;
            return Ok(buf.freeze().slice(start..start + len));
        }
        let n = tokio::time::timeout(timeout, stream.read_buf(&mut buf))
            .await
            .map_err(|_| TransformError::TimedOut(timeout))??;
        if n == 0 {
            return Err(if buf.is_empty() {
                TransformError::NoReply
            } else {
                TransformError::Truncated
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse() {
        let (t, poem) = parse_request(b"cummingsify.HERE IS MY POEM").unwrap();
        assert_eq!(t, Transform::Cummingsify);
        assert_eq!(t.apply(poem), "here is my poem");
        assert_eq!(
            parse_request(b"cummingsify.a.b").unwrap().1,
            "a.b",
            "the poem may hold dots"
        );
        assert!(matches!(
            parse_request(b"cummingsify"),
            Err(TransformError::MissingDot)
        ));
        assert!(matches!(
            parse_request(b"shout.poem"),
            Err(TransformError::UnknownTransform(n)) if n == "shout"
        ));
        assert!(matches!(
            parse_request(b"cummingsify.\xff"),
            Err(TransformError::InvalidUtf8)
        ));
    }

    proptest::proptest! {
        #[test]
        fn any_request_bytes_parse_or_are_refused_without_panicking(
            buf in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
        ) {
            if let Ok(Frame::Complete { payload, .. }) = netstring::decode(&buf, 64)
                && let Ok((t, poem)) = parse_request(payload)
            {
                let _ = t.apply(poem);
            }
            let _ = parse_request(&buf);
        }
    }

    #[test]
    fn cummingsify_is_unicode_aware() {
        let t = Transform::Cummingsify;
        assert_eq!(t.apply("ÉTÉ ΣΟΦΟΣ İ"), "été σοφος i̇");
    }
}
