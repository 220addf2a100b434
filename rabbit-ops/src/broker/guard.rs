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

use tracing::debug;

/// What a peer that does not speak AMQP is told it is.
pub(crate) const NOT_AMQP: &str = "the peer does not speak AMQP 0-9-1: is this a RabbitMQ port?";

/// The socket amiquip gets, checking that the first bytes the peer sends start an AMQP frame.
///
/// amiquip trusts the size field of the first frame header and allocates that much: a peer
/// that answers `HTTP/1.1 400` would cost 1.3 GB ("P/1." read as a size). A RabbitMQ server's
/// first frame is `connection.start`, a method frame (type 1) on channel 0, a few hundred
/// bytes long; anything else is refused as not AMQP before amiquip sees it.
pub(crate) struct FirstFrameCheck {
    inner: mio06::net::TcpStream,
    head: [u8; 7],
    seen: usize,
}

/// The largest first frame accepted (RabbitMQ's `connection.start` is well under 1 KiB).
const FIRST_FRAME_MAX: u32 = 64 * 1024;

impl FirstFrameCheck {
    pub(crate) fn new(inner: mio06::net::TcpStream) -> Self {
        Self {
            inner,
            head: [0; 7],
            seen: 0,
        }
    }

    /// A server's first frame, or what the peer is instead (a TLS server, or not AMQP).
    fn check(head: [u8; 7]) -> Result<(), &'static str> {
        if Self::plausible(head) {
            Ok(())
        } else if super::tls::looks_like_tls(head) {
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

impl io::Read for FirstFrameCheck {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.seen < self.head.len() {
            let take = n.min(self.head.len() - self.seen);
            self.head[self.seen..self.seen + take].copy_from_slice(&buf[..take]);
            self.seen += take;
            if self.seen == self.head.len()
                && let Err(what) = Self::check(self.head)
            {
                return Err(io::Error::new(io::ErrorKind::InvalidData, what));
            }
        }
        Ok(n)
    }
}

impl io::Write for FirstFrameCheck {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl mio06::Evented for FirstFrameCheck {
    fn register(
        &self,
        poll: &mio06::Poll,
        token: mio06::Token,
        interest: mio06::Ready,
        opts: mio06::PollOpt,
    ) -> io::Result<()> {
        self.inner.register(poll, token, interest, opts)
    }
    fn reregister(
        &self,
        poll: &mio06::Poll,
        token: mio06::Token,
        interest: mio06::Ready,
        opts: mio06::PollOpt,
    ) -> io::Result<()> {
        self.inner.reregister(poll, token, interest, opts)
    }
    fn deregister(&self, poll: &mio06::Poll) -> io::Result<()> {
        self.inner.deregister(poll)
    }
}

impl amiquip::IoStream for FirstFrameCheck {}

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
