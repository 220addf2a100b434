//! The stop request every long-running command honours: Ctrl-C or SIGTERM in the binary, a
//! handle in tests. Stopping drops the sender of a crossbeam channel, so every clone of the
//! receiver sees it at once and forever, and a `select!` can wait on it next to a consumer's
//! deliveries (no polling).

use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use tracing::debug;

use crate::error::Error;

/// The stop request: Ctrl-C/SIGTERM in the binary, a handle in tests.
///
/// Stopping drops the sender, so every clone of the receiver sees it, forever.
#[derive(Debug, Clone)]
pub struct Stop {
    rx: Receiver<()>,
    // Keeps the channel open for [`Stop::never`].
    _keep: Option<Sender<()>>,
}

/// Stops the [`Stop`] it was made with when dropped or [`StopHandle::stop`]ped.
#[derive(Debug)]
pub struct StopHandle(Sender<()>);

impl StopHandle {
    /// Asks the loops to stop.
    pub fn stop(self) {
        drop(self.0);
    }
}

impl Stop {
    /// Stops on the first SIGINT (Ctrl-C) or SIGTERM; the handlers are installed now.
    pub fn on_signal() -> Result<Self, Error> {
        let (handle, stop) = Self::manual();
        common::shutdown::on_signal(move |signal| {
            debug!("{signal:?}: stopping");
            handle.stop();
        })
        .map_err(Error::Signal)?;
        Ok(stop)
    }

    /// Never stops (for one-shot commands).
    pub fn never() -> Self {
        let (tx, rx) = crossbeam_channel::bounded(0);
        Self {
            rx,
            _keep: Some(tx),
        }
    }

    /// A stop request and the handle that makes it.
    pub fn manual() -> (StopHandle, Self) {
        let (tx, rx) = crossbeam_channel::bounded(0);
        (StopHandle(tx), Self { rx, _keep: None })
    }

    /// Whether a stop was requested.
    pub fn requested(&self) -> bool {
        matches!(self.rx.try_recv(), Err(TryRecvError::Disconnected))
    }

    /// Ready (disconnected) once a stop was requested: for `select!`.
    pub fn receiver(&self) -> &Receiver<()> {
        &self.rx
    }

    /// Sleeps for `d` unless a stop is requested first; returns whether it slept the whole time.
    pub fn sleep(&self, d: Duration) -> bool {
        matches!(
            self.rx.recv_timeout(d),
            Err(crossbeam_channel::RecvTimeoutError::Timeout)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn stop_reaches_every_clone_and_interrupts_sleep() {
        let (handle, stop) = Stop::manual();
        let clone = stop.clone();
        assert!(!stop.requested());
        assert!(stop.sleep(Duration::from_millis(10)));
        let t = std::thread::spawn(move || {
            let start = Instant::now();
            let slept = clone.sleep(Duration::from_secs(30));
            (slept, start.elapsed())
        });
        std::thread::sleep(Duration::from_millis(50));
        handle.stop();
        let (slept, took) = t.join().unwrap();
        assert!(!slept);
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert!(stop.requested());
        assert!(stop.requested(), "a stop stays requested");
    }

    #[test]
    fn never_never_stops() {
        let stop = Stop::never();
        assert!(!stop.requested());
        assert!(stop.sleep(Duration::from_millis(1)));
    }
}
