//! The connection to RabbitMQ: the one place where connections are made, and remade (amiquip
//! has no recovery of its own), and the declarations every tutorial shares, with their errors
//! turned into lines that say what to do.
//!
//! A [`Broker`] may name several nodes (`--url` given more than once, or a comma-separated
//! `$AMQP_URL`): [`Broker::connect`] tries them in turn, starting with the one that worked last.
//! After a connection is lost, [`Broker::reconnect`] starts with the *next* node and retries
//! with the shared [`Backoff`] (100 ms doubling to 5 s), one log line per attempt.
//!
//! - `connect.rs`: one node, TCP and the AMQP handshake within `--connect-timeout`, and why a
//!   handshake failed, in words;
//! - `guard.rs`: the two guards around amiquip's handshake (a watchdog, a first-frame check);
//! - `session.rs`: a connection with its channel, and the declarations;
//! - `tls.rs`: `amqps://` (TLS settings, first-record check, OpenSSL's failures in words).

mod connect;
mod deadline;
mod guard;
mod session;
mod tls;

pub(crate) use connect::handshake;
pub use deadline::Deadline;
#[allow(unused_imports)] // for `ping`
pub(crate) use guard::Watchdog;
pub(crate) use session::declare_queue_error;
pub use session::{Session, bind, confirm_mode, declare_exchange, declare_queue, exclusive_queue};
pub use tls::TlsClient;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use amiquip::Connection;
use common::retry::Backoff;
use tracing::{debug, warn};

use crate::error::Error;
use crate::stop::Stop;
use crate::url::AmqpUrl;

/// Where the broker (or the nodes of a cluster) is and how long to wait for it.
#[derive(Debug, Clone)]
pub struct Broker {
    urls: Vec<AmqpUrl>,
    connect_timeout: Duration,
    /// Index of the URL to try first: the one that worked last (shared by clones).
    preferred: Arc<AtomicUsize>,
    /// The TLS settings of `amqps://` URLs (`None`: the system's roots).
    tls: Option<TlsClient>,
}

/// How [`Broker::reconnect`] ended.
pub enum Reconnected {
    /// A new connection, with its channel.
    Connected(Box<Session>),
    /// A stop was requested while waiting.
    Stopped,
    /// The deadline passed; the last attempt's failure.
    GaveUp(Error),
}

impl Broker {
    /// Parses the URL (a bad one is a usage error, exit 2).
    pub fn new(url: &str, connect_timeout: Duration) -> Result<Self, Error> {
        Self::with_urls(&[url], connect_timeout)
    }

    /// Several nodes of one cluster (or one broker): connections go to the first that answers.
    pub fn with_urls<S: AsRef<str>>(urls: &[S], connect_timeout: Duration) -> Result<Self, Error> {
        let urls = urls
            .iter()
            .map(|u| {
                let u = u.as_ref();
                AmqpUrl::parse(u).map_err(|reason| Error::BadUrl {
                    url: common::redact::redact_url(u),
                    reason,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        assert!(!urls.is_empty(), "a broker needs at least one URL");
        Ok(Self {
            urls,
            connect_timeout,
            preferred: Arc::new(AtomicUsize::new(0)),
            tls: None,
        })
    }

    /// The TLS settings (`--cacert`, `--cert`/`--key`, `--insecure`) of its `amqps://` URLs.
    #[must_use]
    pub fn with_tls(mut self, tls: Option<TlsClient>) -> Self {
        self.tls = tls;
        self
    }

    /// The TLS settings of its `amqps://` URLs, when TLS flags were given.
    pub fn tls(&self) -> Option<&TlsClient> {
        self.tls.as_ref()
    }

    /// The parsed URL tried first.
    pub fn url(&self) -> &AmqpUrl {
        &self.urls[self.preferred.load(Ordering::Relaxed) % self.urls.len()]
    }

    /// Every URL, in the order given.
    pub fn urls(&self) -> &[AmqpUrl] {
        &self.urls
    }

    /// The bound of the TCP connection and the AMQP handshake (`--connect-timeout`).
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Opens a connection to the first node that takes it, starting with the one that worked
    /// last. With one URL, its error as it is; with several, every node's.
    pub fn connect(&self) -> Result<Connection, Error> {
        // No deadline: the caller owns the connection as it is.
        self.connect_guarded().map(|(c, mut deadline)| {
            deadline.closed();
            c
        })
    }

    /// [`Broker::connect`], with the [`Deadline`] of the connection's requests.
    fn connect_guarded(&self) -> Result<(Connection, Deadline), Error> {
        let n = self.urls.len();
        let start = self.preferred.load(Ordering::Relaxed);
        let mut reasons = Vec::new();
        for i in 0..n {
            let at = (start + i) % n;
            match self.connect_to(&self.urls[at]) {
                Ok(c) => {
                    self.preferred.store(at, Ordering::Relaxed);
                    return Ok(c);
                }
                Err(e) if n == 1 => return Err(e),
                Err(e) => {
                    debug!("{e}");
                    reasons.push(e.to_string());
                }
            }
        }
        Err(Error::ConnectAll {
            tried: n,
            reasons: reasons.join("; "),
        })
    }

    /// After a lost connection (`why`): connects again (and opens a channel), starting with the next node, retrying
    /// with [`Backoff`] until it works, `stop` is requested, or `give_up` passes. Logs one line
    /// per attempt (warnings: they show without `-v`).
    pub fn reconnect(&self, why: &Error, stop: &Stop, give_up: Option<Instant>) -> Reconnected {
        warn!("connection lost ({why}); reconnecting");
        if self.urls.len() > 1 {
            self.preferred.fetch_add(1, Ordering::Relaxed);
        }
        let mut backoff = Backoff::default();
        loop {
            let attempt = backoff.attempts() + 1;
            match self.session() {
                Ok(c) => {
                    warn!(
                        "reconnected to {} (attempt {attempt})",
                        self.url().redacted()
                    );
                    return Reconnected::Connected(Box::new(c));
                }
                Err(e) => {
                    let delay = backoff.next_delay();
                    if give_up.is_some_and(|g| Instant::now() + delay >= g) {
                        warn!("reconnect attempt {attempt} failed: {e}; giving up");
                        return Reconnected::GaveUp(e);
                    }
                    warn!(
                        "reconnect attempt {attempt} failed: {e}; next in {}",
                        common::duration::duration(delay)
                    );
                    if !stop.sleep(delay) {
                        return Reconnected::Stopped;
                    }
                }
            }
        }
    }

    /// Opens a connection: TCP within the timeout, then the AMQP handshake within what is left.
    fn connect_to(&self, url: &AmqpUrl) -> Result<(Connection, Deadline), Error> {
        handshake(url, self.tls.as_ref(), self.connect_timeout)
            .map(|(connection, socket)| (connection, Deadline::new(socket, self.connect_timeout)))
    }

    /// Connects and opens one channel; every request of the session is answered within
    /// `--connect-timeout` or fails ([`Error::Stalled`]).
    pub fn session(&self) -> Result<Session, Error> {
        let (connection, deadline) = self.connect_guarded()?;
        Session::guarded(connection, deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port held by a socket that is bound but never listens: connections are refused.
    fn refused_port() -> u16 {
        test_support::refused_addr().port()
    }

    #[test]
    fn several_urls_all_refused_name_each() {
        let (a, b) = (refused_port(), refused_port());
        let urls = [
            format!("amqp://guest:secret@127.0.0.1:{a}/%2f"),
            format!("amqp://guest:secret@127.0.0.1:{b}/%2f"),
        ];
        let broker = Broker::with_urls(&urls, Duration::from_secs(2)).unwrap();
        let e = broker.connect().unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "cannot connect to any of 2 brokers: cannot connect to \
                 amqp://guest:***@127.0.0.1:{a}/%2f: connection refused; cannot connect to \
                 amqp://guest:***@127.0.0.1:{b}/%2f: connection refused"
            )
        );
    }
}
