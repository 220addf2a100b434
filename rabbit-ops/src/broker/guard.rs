//! The two guards around amiquip's handshake (and, for `ping`, around a whole exchange).
//!
//! - [`Watchdog`]: shuts a socket down at a deadline unless disarmed first, so that whatever
//!   amiquip's I/O thread waits for ends by then;
//! - [`FirstFrameCheck`]: refuses a peer whose first bytes cannot start an AMQP frame, before
//!   amiquip believes a size field that is really text.

use std::io;
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use mio06::{Poll, PollOpt, Ready, Token};
use tracing::debug;

/// What a peer that does not speak AMQP is told it is.
pub(crate) const NOT_AMQP: &str = "the peer does not speak AMQP 0-9-1: is this a RabbitMQ port?";

/// The stream amiquip gets, checking that the first bytes the peer sends start an AMQP frame.
///
/// amiquip trusts the size field of the first frame header and allocates that much: a peer
/// that answers `HTTP/1.1 400` would cost 1.3 GB ("P/1." read as a size). A RabbitMQ server's
/// first frame is `connection.start`, a method frame (type 1) on channel 0, a few hundred
/// bytes long; anything else is refused as not AMQP before amiquip sees it.
///
/// Every later frame is checked too: amiquip allocates whatever size a frame header announces,
/// so a frame over [`FRAME_MAX`] (the `frame_max` we negotiate: the broker may not send more)
/// is refused before amiquip reads it (a peer announcing 4 GiB would cost 4 GiB, and zeroing
/// them takes longer than any `--connect-timeout`).
///
/// `S` is the TCP stream of an `amqp://` URL, or for `amqps://` the TLS stream
/// ([`TlsSocket`](super::tls::TlsSocket)): the check reads the frames after decryption, so it
/// holds behind TLS too.
pub(crate) struct FirstFrameCheck<S> {
    inner: S,
    head: [u8; 7],
    seen: usize,
    /// Bytes of the current frame (payload and end byte) still to pass before the next header.
    skip: u64,
    first: bool,
    /// Behind TLS: a first frame that looks like TLS is only not AMQP.
    tls: bool,
}

/// The `frame_max` we ask for: RabbitMQ's default, 128 KiB (bodies go in several frames).
pub(crate) const FRAME_MAX: u32 = 128 * 1024;

/// The largest first frame accepted (RabbitMQ's `connection.start` is well under 1 KiB).
const FIRST_FRAME_MAX: u32 = 64 * 1024;

impl<S> FirstFrameCheck<S> {
    /// The check on the plain TCP stream of an `amqp://` URL.
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            head: [0; 7],
            seen: 0,
            skip: 0,
            first: true,
            tls: false,
        }
    }

    /// The check on the decrypted side of an `amqps://` connection.
    pub(crate) fn behind_tls(inner: S) -> Self {
        Self {
            tls: true,
            ..Self::new(inner)
        }
    }

    /// Follows the frames in `data` (the bytes just read): every header's size is checked.
    fn follow(&mut self, data: &[u8]) -> Result<(), String> {
        let mut i = 0;
        while i < data.len() {
            if self.skip > 0 {
                let take = self.skip.min((data.len() - i) as u64);
                self.skip -= take;
                i += take as usize;
                continue;
            }
            let take = (data.len() - i).min(self.head.len() - self.seen);
            self.head[self.seen..self.seen + take].copy_from_slice(&data[i..i + take]);
            self.seen += take;
            i += take;
            if self.seen < self.head.len() {
                break;
            }
            self.seen = 0;
            if self.first {
                self.first = false;
                Self::check(self.head, self.tls).map_err(str::to_owned)?;
            }
            let size = u32::from_be_bytes([self.head[3], self.head[4], self.head[5], self.head[6]]);
            if size > FRAME_MAX {
                return Err(format!(
                    "the broker sent a frame of {size} bytes, over the {FRAME_MAX} agreed \
                     (frame_max): is this a RabbitMQ port?"
                ));
            }
            self.skip = u64::from(size) + 1;
        }
        Ok(())
    }

    /// A server's first frame, or what the peer is instead (a TLS server behind a plain URL,
    /// or not AMQP).
    fn check(head: [u8; 7], tls: bool) -> Result<(), &'static str> {
        if Self::plausible(head) {
            Ok(())
        } else if !tls && super::tls::looks_like_tls(head) {
            Err(super::tls::SPEAKS_TLS)
        } else {
            Err(NOT_AMQP)
        }
    }

    /// Whether a frame header (type, channel, size) can be a server's first frame.
    fn plausible(head: [u8; 7]) -> bool {
        let size = u32::from_be_bytes([head[3], head[4], head[5], head[6]]);
        head[0] == 1 && head[1] == 0 && head[2] == 0 && size <= FIRST_FRAME_MAX
    }
}

impl<S: io::Read> io::Read for FirstFrameCheck<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.follow(&buf[..n])
            .map_err(|what| io::Error::new(io::ErrorKind::InvalidData, what))?;
        Ok(n)
    }
}

impl<S: io::Write> io::Write for FirstFrameCheck<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Registration is the inner stream's (amiquip's I/O loop polls it).
impl<S: mio06::Evented> mio06::Evented for FirstFrameCheck<S> {
    fn register(&self, p: &Poll, t: Token, i: Ready, o: PollOpt) -> io::Result<()> {
        self.inner.register(p, t, i, o)
    }
    fn reregister(&self, p: &Poll, t: Token, i: Ready, o: PollOpt) -> io::Result<()> {
        self.inner.reregister(p, t, i, o)
    }
    fn deregister(&self, p: &Poll) -> io::Result<()> {
        self.inner.deregister(p)
    }
}

impl<S: amiquip::IoStream> amiquip::IoStream for FirstFrameCheck<S> {}

/// Shuts a socket down at a deadline unless disarmed first.
pub(crate) struct Watchdog {
    state: Arc<Mutex<Watch>>,
    cancel: Option<crossbeam_channel::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watch {
    Armed,
    Disarmed,
    Fired,
}

impl Watchdog {
    pub(crate) fn arm(socket: TcpStream, deadline: Instant) -> io::Result<Self> {
        let state = Arc::new(Mutex::new(Watch::Armed));
        let (cancel, cancelled) = crossbeam_channel::bounded::<()>(0);
        let shared = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("amqp-connect-watchdog".into())
            .spawn(move || {
                if cancelled.recv_deadline(deadline).is_ok() {
                    return;
                }
                let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
                if *state == Watch::Armed {
                    debug!("deadline passed: shutting the socket down");
                    let _ = socket.shutdown(Shutdown::Both);
                    *state = Watch::Fired;
                }
            })?;
        Ok(Self {
            state,
            cancel: Some(cancel),
            thread: Some(thread),
        })
    }

    /// Stops the watchdog; returns whether it had already fired.
    pub(crate) fn disarm(mut self) -> bool {
        let fired = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let fired = *state == Watch::Fired;
            *state = Watch::Disarmed;
            fired
        };
        drop(self.cancel.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        fired
    }
}
