//! A raw link of its own, and making it again: a [`Link`] opened (connect, AUTH and SELECT when
//! the URL asks for them) within the timeout; after a break, attempts spaced by the shared
//! [`common::retry::Backoff`] (50 ms doubling to 1 s) for at most `--retry-for`.

use std::time::{Duration, Instant};

use super::tally::Shared;
use crate::error::Error;
use crate::link::{Broke, Endpoint, Hello, Link, LinkError};
use crate::url::RedisUrl;

/// Where and how a raw client connects (again).
pub(super) struct Dialer {
    /// The URL, for a refusal's error line (it shows itself with its password hidden).
    pub(super) url: RedisUrl,
    /// Where the links go, and who they say they are.
    pub(super) to: Endpoint,
    pub(super) timeout: Duration,
    pub(super) retry_for: Duration,
}

impl Dialer {
    /// A link of its own: connect, AUTH/SELECT, all within the timeout. A failure says why,
    /// and whether it is permanent: the server refused AUTH or SELECT (unless it is not ready
    /// yet: [`crate::error::not_ready_yet`]) or did not answer in RESP.
    async fn link(&self) -> Result<Link, (String, bool)> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        Link::open(&self.to, Hello::Auth, deadline)
            .await
            .map_err(|e| self.words(e))
    }

    /// Why a link could not be opened, in the words of `bench`, and whether it is permanent.
    fn words(&self, e: LinkError) -> (String, bool) {
        let timed_out = || {
            let why = crate::connect::timed_out(self.timeout, self.to.tls.is_some());
            (why, false)
        };
        let f = match e {
            LinkError::Connect { why, tls_refused } => return (why, tls_refused),
            LinkError::NoConnection => return timed_out(),
            LinkError::WrongScheme(why) => return (why.to_owned(), true),
            LinkError::Hello(f) => f,
        };
        match f.broke {
            Broke::Silent => timed_out(),
            Broke::Io(_) | Broke::Closed => (f.broke.to_string(), false),
            Broke::Unexpected(answer) if answer.is_error() => {
                let text = answer.text();
                let code = text.split(' ').next().unwrap_or_default();
                let permanent = !crate::error::not_ready_yet(code);
                (text, permanent)
            }
            Broke::Unexpected(answer) => {
                let raw = answer.raw();
                let shown = String::from_utf8_lossy(&raw[..raw.len().min(60)]);
                (format!("{}: unexpected reply {shown:?}", f.command), true)
            }
            Broke::NotResp(_)
            | Broke::TooLong(_)
            | Broke::TooMany
            | Broke::Overrun(_)
            | Broke::WrongScheme(_) => (f.broke.to_string(), true),
        }
    }

    /// The first link.
    pub(super) async fn open(&self) -> Result<Link, String> {
        self.link().await.map_err(|(why, _)| why)
    }

    /// Connects again after a break, until `retry_for` after `down_since` (when the outage
    /// began); counts the reconnect in `shared`. `None`: gave up (the first error says why), or
    /// the server refused the connection (AUTH, SELECT, not RESP), a fatal error in `shared`
    /// that ends the run at once.
    pub(super) async fn reconnect(&self, shared: &Shared, down_since: Instant) -> Option<Link> {
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
                    *first = Some(common::redact::redact_all(&format!(
                        "cannot reconnect: {why}"
                    )));
                }
                return None;
            };
            tokio::time::sleep(delay).await;
            match self.link().await {
                Ok(link) => {
                    shared.reconnects.set(shared.reconnects.get() + 1);
                    return Some(link);
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
