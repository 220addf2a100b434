//! A raw connection of its own, and making it again: connect, `TCP_NODELAY`, AUTH and SELECT
//! when the URL asks for them, all within the timeout; after a break, attempts spaced by the
//! shared [`Backoff`] (50 ms doubling to 1 s) for at most `--retry-for`.

use std::time::{Duration, Instant};

use crate::stream::{self, Stream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::tally::Shared;
use crate::connect::Redis;
use crate::error::Error;
use crate::resp::{self, Kind};

/// How a raw connection sets itself up: AUTH and SELECT when the URL asks for them.
pub(super) struct Handshake {
    bytes: Vec<u8>,
    replies: usize,
}

impl Handshake {
    pub(super) fn new(redis: &Redis) -> Self {
        let mut bytes = Vec::new();
        let mut replies = 0;
        match redis.credentials() {
            (Some(user), Some(pass)) => {
                resp::encode(&mut bytes, &[b"AUTH", user.as_bytes(), pass.as_bytes()]);
                replies += 1;
            }
            (None, Some(pass)) => {
                resp::encode(&mut bytes, &[b"AUTH", pass.as_bytes()]);
                replies += 1;
            }
            _ => {}
        }
        if redis.db() != 0 {
            resp::encode(&mut bytes, &[b"SELECT", redis.db().to_string().as_bytes()]);
            replies += 1;
        }
        Self { bytes, replies }
    }
}

/// A connection of its own: connect, TCP_NODELAY, AUTH/SELECT, all within `timeout`. A
/// failure says why, and whether it is permanent: the server refused AUTH or SELECT (unless
/// it is not ready yet: [`crate::error::not_ready_yet`]) or did not answer in RESP.
async fn open(dialer: &Dialer) -> Result<Stream, (String, bool)> {
    let (addr, hs, timeout) = (&dialer.addr, &dialer.hs, dialer.timeout);
    let lost = |why: String| (why, false);
    let attempt = async {
        let mut s = stream::connect(addr.0.as_str(), addr.1, dialer.tls.as_ref())
            .await
            .map_err(lost)?;
        if hs.replies > 0 {
            s.write_all(&hs.bytes)
                .await
                .map_err(|e| lost(stream::describe_tls_io(&e)))?;
            let mut buf = Vec::with_capacity(256);
            let mut seen = 0;
            let mut at = 0;
            while seen < hs.replies {
                if s.read_buf(&mut buf)
                    .await
                    .map_err(|e| lost(stream::describe_tls_io(&e)))?
                    == 0
                {
                    return Err(lost("the server closed the connection".to_owned()));
                }
                while let Some(r) = resp::parse(&buf[at..]).map_err(|e| (e.to_string(), true))? {
                    let reply = &buf[at..at + r.len];
                    if r.kind != Kind::Status {
                        let text = resp::line_text(reply);
                        let code = text.split(' ').next().unwrap_or_default();
                        let permanent = !crate::error::not_ready_yet(code);
                        return Err((text, permanent));
                    }
                    at += r.len;
                    seen += 1;
                }
            }
        }
        Ok(s)
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(r) => r,
        Err(_) => Err(lost(crate::connect::timed_out(
            timeout,
            dialer.tls.is_some(),
        ))),
    }
}

/// Where and how a raw client connects (again).
pub(super) struct Dialer {
    /// The URL, for a refusal's error line (printed with its password redacted).
    pub(super) url: String,
    pub(super) addr: (String, u16),
    pub(super) hs: Handshake,
    pub(super) timeout: Duration,
    pub(super) retry_for: Duration,
    /// The TLS connector of a `rediss://` URL.
    pub(super) tls: Option<tokio_rustls::TlsConnector>,
}

impl Dialer {
    /// The first connection.
    pub(super) async fn open(&self) -> Result<Stream, String> {
        open(self).await.map_err(|(why, _)| why)
    }

    /// Connects again after a break, until `retry_for` after `down_since` (when the outage
    /// began); counts the reconnect in `shared`. `None`: gave up (the first error says why), or
    /// the server refused the connection (AUTH, SELECT, not RESP), a fatal error in `shared`
    /// that ends the run at once.
    pub(super) async fn reconnect(&self, shared: &Shared, down_since: Instant) -> Option<Stream> {
        let deadline = down_since + self.retry_for;
        let mut backoff = crate::connect::backoff();
        let mut why = "the connection kept breaking".to_owned();
        loop {
            if shared.stop.get() {
                return None;
            }
            let Some(delay) = backoff.next_delay_until(deadline) else {
                let mut first = shared.first_error.borrow_mut();
                if first.is_none() {
                    *first = Some(format!("cannot reconnect: {why}"));
                }
                return None;
            };
            tokio::time::sleep(delay).await;
            match open(self).await {
                Ok(s) => {
                    shared.reconnects.set(shared.reconnects.get() + 1);
                    return Some(s);
                }
                Err((e, true)) => {
                    // A refusal is not a lost connection: the run ends at once, with it.
                    shared.fatal.borrow_mut().get_or_insert(Error::Connect {
                        url: self.url.clone(),
                        reason: e,
                    });
                    return None;
                }
                Err((e, false)) => {
                    tracing::debug!("reconnect failed: {e}");
                    why = e;
                }
            }
        }
    }
}
