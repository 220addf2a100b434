//! Every exchange with the broker has a deadline. amiquip waits for the broker's answer to a
//! request (channel.open, a declare, basic.consume, a cancel, channel.close) with no timeout of
//! its own: a broker that completed the handshake and then stalls (frozen, overloaded, or a
//! peer that lies) would keep us forever. A [`Deadline`] holds a clone of the connection's
//! socket: [`Deadline::within`] shuts it down when a request is not answered within
//! `--connect-timeout` (amiquip's wait then ends with an error), and [`Deadline::reap`] does
//! it a short while after a command gives up (so that amiquip's cancel and close on drop, which
//! wait for the broker too, end soon).

use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use super::guard::Watchdog;
use crate::error::Error;

/// How long a connection being dropped after an error may take to close cleanly.
pub(crate) const GRACE: Duration = Duration::from_secs(1);

/// The deadline of a connection's requests (see the module documentation).
#[derive(Debug)]
pub struct Deadline {
    socket: TcpStream,
    allowed: Duration,
    closed: bool,
}

impl Deadline {
    pub(crate) fn new(socket: TcpStream, allowed: Duration) -> Self {
        Self {
            socket,
            allowed,
            closed: false,
        }
    }

    /// Runs `f` (requests to the broker); if it has not returned within `--connect-timeout`,
    /// the socket is shut down and the answer is [`Error::Stalled`].
    pub fn within<T>(&self, doing: &str, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
        let watchdog = self
            .socket
            .try_clone()
            .and_then(|s| Watchdog::arm(s, Instant::now() + self.allowed));
        let result = f();
        let fired = watchdog.is_ok_and(Watchdog::disarm);
        if fired {
            return Err(Error::Stalled {
                doing: doing.to_owned(),
                waited: self.allowed,
            });
        }
        result
    }

    /// Shuts the socket down after `after`, whatever happens meanwhile: for a command that
    /// gives up and drops its consumer, channel and connection (which wait for the broker).
    pub fn reap(&self, after: Duration) {
        if let Ok(socket) = self.socket.try_clone() {
            let _ = std::thread::Builder::new()
                .name("amqp-reaper".into())
                .spawn(move || {
                    std::thread::sleep(after);
                    let _ = socket.shutdown(Shutdown::Both);
                });
        }
    }

    /// The connection was closed cleanly (or is handed over as it is): nothing to reap when
    /// this is dropped.
    pub(crate) fn closed(&mut self) {
        self.closed = true;
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if !self.closed {
            self.reap(GRACE.min(self.allowed));
        }
    }
}
