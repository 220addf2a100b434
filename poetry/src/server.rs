//! The poetry server: every client that connects gets the poem, then the server closes.
//!
//! Fast mode (the tutorial's Fast Poetry Server) writes the whole poem at once. Slow mode (its
//! slow server) writes `num_bytes` every `delay`, never splitting a UTF-8 character; unlike the
//! tutorial's blocking version it serves any number of clients at once.

use std::future::Future;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use bytes::Bytes;
use rustix::io::Errno;
use rustix::net::SendFlags;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use common::net::Ctx;

use crate::Error;
use crate::reply::{self, Cut, peer_name};

/// How the poem is written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// All at once, then close.
    Fast,
    /// `num_bytes` at a time (never splitting a UTF-8 character), `delay` apart, then close.
    Slow {
        /// The pause between two pieces.
        delay: Duration,
        /// The size of a piece (a character longer than this goes whole).
        num_bytes: usize,
    },
}

/// What to serve and how.
#[derive(Debug, Clone)]
pub struct Config {
    /// The poem, sent byte for byte.
    pub poem: Bytes,
    /// Fast or slow.
    pub mode: Mode,
    /// Connections served at once; more wait in the backlog.
    pub max_connections: usize,
    /// After a shutdown request, how long connections in progress may take to finish.
    pub grace: Duration,
    /// A client that takes nothing for this long is cut off.
    pub stall_timeout: Duration,
}

impl Config {
    /// Fast mode, 10,000 connections at most, 5 s of grace, 60 s stall timeout.
    pub fn new(poem: impl Into<Bytes>) -> Self {
        Self {
            poem: poem.into(),
            mode: Mode::Fast,
            max_connections: 10_000,
            grace: Duration::from_secs(5),
            stall_timeout: Duration::from_mins(1),
        }
    }

    /// The same in slow mode.
    #[must_use]
    pub fn slow(mut self, delay: Duration, num_bytes: usize) -> Self {
        self.mode = Mode::Slow {
            delay,
            num_bytes: num_bytes.max(1),
        };
        self
    }
}

/// What a server did, returned when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted.
    pub connections: u64,
    /// Poems delivered whole.
    pub poems: u64,
    /// Bytes written, whole poems and pieces.
    pub bytes: u64,
    /// Connections that ended before the whole poem was written (reset, stalled, shutdown).
    pub cut_short: u64,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "poetry-server: served {} poem(s), {} bytes, to {} connection(s); {} cut short",
            self.poems, self.bytes, self.connections, self.cut_short
        )
    }
}

#[derive(Default)]
struct Counters {
    poems: AtomicU64,
    bytes: AtomicU64,
    cut_short: AtomicU64,
}

impl Counters {
    fn delivered(&self, bytes: usize) {
        self.poems.fetch_add(1, Relaxed);
        self.bytes.fetch_add(bytes as u64, Relaxed);
    }

    fn cut(&self, bytes: usize) {
        self.cut_short.fetch_add(1, Relaxed);
        self.bytes.fetch_add(bytes as u64, Relaxed);
    }

    fn stats(&self, connections: u64) -> Stats {
        Stats {
            connections,
            poems: self.poems.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            cut_short: self.cut_short.load(Relaxed),
        }
    }
}

/// Reads the poem file: `No such file: <path>` when it is missing, `<path> is not a regular
/// file` for a device, a FIFO or a folder (checked before it is opened: opening a FIFO would
/// block until a writer comes, and `/dev/zero` never ends), `<path>: poem larger than <max>
/// bytes` over `max` ([`common::file::read_regular`]: never more than `max + 1` bytes read, even
/// from a file that grows).
pub fn load_poem(path: &Path, max: usize) -> Result<Bytes, Error> {
    use common::file::{FileError, read_regular};
    read_regular(path, max)
        .map(Bytes::from)
        .map_err(|e| match e {
            FileError::NotRegular => Error::NotRegularFile(path.to_owned()),
            FileError::TooLarge { max } => Error::PoemFileTooLarge {
                path: path.to_owned(),
                max,
            },
            FileError::Io(cause) if cause.kind() == io::ErrorKind::NotFound => {
                Error::NoSuchFile(path.to_owned())
            }
            FileError::Io(cause) => Error::ReadPoem {
                path: path.to_owned(),
                cause,
            },
        })
}

/// Serves the poem on `listener` until `shutdown` resolves, then finishes (or, after the grace
/// period, cuts short) the connections in progress and returns what it did.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<Stats, Error> {
    let Config {
        poem,
        mode,
        max_connections,
        grace,
        stall_timeout,
    } = config;
    let counters = Arc::new(Counters::default());
    let on_accept =
        |stream: std::net::TcpStream, permit: OwnedSemaphorePermit, ctx: &Ctx| match mode {
            Mode::Fast => serve_fast(stream, permit, &poem, stall_timeout, &counters, ctx),
            Mode::Slow { delay, num_bytes } => {
                let (poem, counters, abort) = (poem.clone(), counters.clone(), ctx.abort.clone());
                ctx.tracker.spawn(async move {
                    let written =
                        serve_slow(stream, &poem, delay, num_bytes, stall_timeout, &abort);
                    match written.await {
                        Ok(()) => counters.delivered(poem.len()),
                        Err(sent) => counters.cut(sent),
                    }
                    drop(permit);
                });
            }
        };
    let served = common::net::serve(listener, max_connections, grace, shutdown, on_accept)
        .await
        .map_err(Error::Listener)?;
    Ok(counters.stats(served.accepted))
}

/// Fast mode: a fresh socket's send buffer is empty, so one `send` almost always takes the whole
/// poem, and the socket is closed at once: no task, and the reactor never hears of the socket.
/// `MSG_MORE` holds the poem back until the close, so that it leaves with the FIN in one segment.
/// A poem too big for the buffer is finished by a task.
fn serve_fast(
    stream: std::net::TcpStream,
    permit: OwnedSemaphorePermit,
    poem: &Bytes,
    stall: Duration,
    counters: &Arc<Counters>,
    ctx: &Ctx,
) {
    let sent = match rustix::net::send(&stream, poem, SendFlags::NOSIGNAL | SendFlags::MORE) {
        Ok(n) if n == poem.len() => {
            counters.delivered(n);
            return;
        }
        Ok(n) => n,
        Err(Errno::AGAIN) => 0,
        Err(e) => {
            tracing::debug!(
                "cannot send the poem to {}: {e}",
                peer_name(stream.peer_addr())
            );
            counters.cut(0);
            return;
        }
    };
    let (poem, counters, abort) = (poem.clone(), counters.clone(), ctx.abort.clone());
    ctx.tracker.spawn(async move {
        let mut stream = match TcpStream::from_std(stream) {
            Ok(stream) => stream,
            Err(e) => {
                tracing::warn!("cannot finish a poem: {e}");
                counters.cut(sent);
                return;
            }
        };
        match reply::write_all(&mut stream, &poem[sent..], stall, &abort).await {
            Ok(()) => counters.delivered(poem.len()),
            Err(cut) => {
                log_cut(stream.peer_addr(), &cut);
                reply::reset(stream);
                counters.cut(sent);
            }
        }
        drop(permit);
    });
}

/// Slow mode: a piece, a pause, a piece... Returns how much was sent when cut short.
async fn serve_slow(
    stream: std::net::TcpStream,
    poem: &[u8],
    delay: Duration,
    num_bytes: usize,
    stall: Duration,
    abort: &CancellationToken,
) -> Result<(), usize> {
    let mut stream = TcpStream::from_std(stream).map_err(|_| 0usize)?;
    // Each piece leaves at once, instead of waiting for the previous one's acknowledgement.
    let _ = stream.set_nodelay(true);
    let mut sent = 0;
    let result = async {
        while sent < poem.len() {
            if sent > 0 {
                tokio::select! {
                    biased;
                    () = abort.cancelled() => return Err(Cut::Aborted),
                    () = tokio::time::sleep(delay) => {}
                }
            }
            let end = piece_end(poem, sent, num_bytes);
            reply::write_all(&mut stream, &poem[sent..end], stall, abort).await?;
            sent = end;
        }
        Ok(())
    };
    match result.await {
        Ok(()) => Ok(()),
        Err(cut) => {
            log_cut(stream.peer_addr(), &cut);
            reply::reset(stream);
            Err(sent)
        }
    }
}

fn log_cut(peer: io::Result<std::net::SocketAddr>, cut: &Cut) {
    let peer = peer_name(peer);
    if matches!(cut, Cut::Aborted) {
        tracing::info!("cut {peer} short: {cut}");
    } else {
        tracing::debug!("cut {peer} short: {cut}");
    }
}

/// Where the slow-mode piece that starts at `start` ends: `num_bytes` further on, moved back to
/// the start of the UTF-8 character it would split, or, when the piece would then be empty
/// (a character longer than `num_bytes`), forward to that character's end. Bytes that are not
/// UTF-8 are cut anywhere.
pub fn piece_end(poem: &[u8], start: usize, num_bytes: usize) -> usize {
    let limit = start.saturating_add(num_bytes.max(1));
    if limit >= poem.len() {
        return poem.len();
    }
    let continues = |i: usize| poem[i] & 0xC0 == 0x80;
    // Back to the start of the character (a UTF-8 character has at most 3 continuation bytes).
    let mut end = limit;
    while end > start && limit - end < 3 && continues(end) {
        end -= 1;
    }
    if end > start {
        // Three continuation bytes and no start: not UTF-8, cut where asked.
        return if continues(end) { limit } else { end };
    }
    // The character began at `start` and is longer than `num_bytes`: send it whole.
    let mut end = limit;
    while end < poem.len() && end - limit < 3 && continues(end) {
        end += 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pieces(poem: &[u8], n: usize) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < poem.len() {
            let end = piece_end(poem, start, n);
            assert!(end > start, "no progress at {start}");
            out.push(&poem[start..end]);
            start = end;
        }
        out
    }

    #[test]
    fn ascii_pieces_are_num_bytes_long() {
        let sizes: Vec<usize> = pieces(b"abcdefghijk", 3).iter().map(|p| p.len()).collect();
        assert_eq!(sizes, [3, 3, 3, 2]);
    }

    #[test]
    fn characters_are_never_split() {
        // "é" is 2 bytes, "’" 3.
        let poem = "aé’b".as_bytes();
        let got: Vec<&str> = pieces(poem, 2)
            .into_iter()
            .map(|p| std::str::from_utf8(p).unwrap())
            .collect();
        assert_eq!(got, ["a", "é", "’", "b"]);
        let got: Vec<&str> = pieces(poem, 1)
            .into_iter()
            .map(|p| std::str::from_utf8(p).unwrap())
            .collect();
        assert_eq!(got, ["a", "é", "’", "b"]);
        let got: Vec<&str> = pieces(poem, 4)
            .into_iter()
            .map(|p| std::str::from_utf8(p).unwrap())
            .collect();
        assert_eq!(got, ["aé", "’b"]);
    }

    #[test]
    fn invalid_utf8_is_still_cut() {
        let poem = [0x80u8; 20];
        assert_eq!(pieces(&poem, 5).len(), 4);
    }

    proptest! {
        #[test]
        fn pieces_of_text_are_whole_characters(s in "\\PC{0,60}", n in 1usize..12) {
            let all = pieces(s.as_bytes(), n);
            prop_assert_eq!(all.concat(), s.as_bytes());
            for (i, p) in all.iter().enumerate() {
                let text = std::str::from_utf8(p);
                prop_assert!(text.is_ok(), "split character in {:?}", p);
                let text = text.unwrap();
                // Never longer than asked, except a single character longer than n.
                prop_assert!(p.len() <= n || text.chars().count() == 1, "{:?} for n={}", text, n);
                // Never shorter than it could be: the next character would not have fitted.
                if let Some(next) = all.get(i + 1) {
                    let next_char = std::str::from_utf8(next).unwrap().chars().next().unwrap();
                    prop_assert!(p.len() + next_char.len_utf8() > n, "{:?} then {:?}", text, next_char);
                }
            }
        }

        #[test]
        fn any_bytes_make_progress(b in proptest::collection::vec(any::<u8>(), 0..80), n in 1usize..12) {
            let all = pieces(&b, n);
            prop_assert_eq!(all.concat(), b.clone());
            for p in all {
                prop_assert!(p.len() <= n + 3);
            }
        }
    }
}
