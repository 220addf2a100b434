//! A Redis URL, parsed: `redis://[user:password@]host[:port][/db]`, `rediss://` for TLS,
//! `redis+unix:///path?db=N`. It shows itself (`Display` and `Debug`) with its password as `***`,
//! so no error line or log can print it whole, and hands its password out only as a [`Secret`].
//!
//! ```
//! use redis_ops::url::RedisUrl;
//!
//! let url = RedisUrl::parse("redis://:hunter2@127.0.0.1:6390/2").unwrap();
//! assert_eq!(url.to_string(), "redis://:***@127.0.0.1:6390/2");
//! assert!(!format!("{url:?}").contains("hunter2"));
//! assert_eq!((url.db(), url.password().unwrap().expose()), (2, "hunter2"));
//! ```

use std::fmt;
use std::sync::Arc;

use common::redact::{redact_all, redact_url};
use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo};

use crate::redis_error::describe;

/// A URL refused: not a Redis URL, or not one that can serve here (a usage error).
#[derive(Debug, thiserror::Error)]
#[error("bad Redis URL '{url}': {reason}")]
pub struct BadUrl {
    /// The URL as shown: its password already hidden ([`RedisUrl`]'s `Display`, or
    /// [`common::redact::redact_all`] of a text that did not parse).
    pub url: String,
    /// Why it was refused.
    pub reason: String,
}

/// Where `--url` points when neither it nor `$REDIS_URL` is given.
pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379/0";

/// The URL to use: `--url`, else `$REDIS_URL`, else [`DEFAULT_URL`].
pub fn url_from(flag: Option<String>) -> String {
    flag.or_else(|| {
        std::env::var("REDIS_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
    })
    .unwrap_or_else(|| DEFAULT_URL.to_owned())
}

/// A parsed Redis URL: the text as given (only ever shown redacted) and the redis crate's
/// connection info, which every connection to the server is made from.
#[derive(Clone)]
pub struct RedisUrl {
    given: String,
    info: Arc<ConnectionInfo>,
}

/// A password: `Debug` shows `***`, there is no `Display`; [`Secret::expose`] is for the one
/// place that sends it (AUTH).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The password itself, to send it to the server.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl RedisUrl {
    /// Parses `text` (no connection yet). A malformed URL is a usage error ([`BadUrl`]),
    /// which shows the text with whatever may be its password hidden.
    pub fn parse(text: &str) -> Result<Self, BadUrl> {
        let info = text.into_connection_info().map_err(|e| BadUrl {
            url: redact_all(text),
            reason: describe(&e),
        })?;
        // Sent with AUTH: a peer that echoes it (AUTH renamed away) has it hidden by value in
        // every error and log line (common::redact::redact_all).
        if let Some(password) = info.redis_settings().password() {
            common::redact::register(password);
        }
        Ok(Self {
            given: text.to_owned(),
            info: Arc::new(info),
        })
    }

    /// A refusal of this URL as a usage error: `bad Redis URL '<url>': <reason>`.
    pub(crate) fn bad(&self, reason: String) -> BadUrl {
        BadUrl {
            url: self.to_string(),
            reason,
        }
    }

    /// The redis crate's connection info.
    pub(crate) fn info(&self) -> &ConnectionInfo {
        &self.info
    }

    /// Another node of the same cluster, `host:port`: the same credentials, the same TLS
    /// settings, shown as `redis://host:port/0` (`rediss://` for TLS).
    pub(crate) fn node(&self, host: &str, port: u16) -> Self {
        let (scheme, addr) = match self.info.addr() {
            ConnectionAddr::TcpTls {
                insecure,
                tls_params,
                ..
            } => (
                "rediss",
                ConnectionAddr::TcpTls {
                    host: host.to_owned(),
                    port,
                    insecure: *insecure,
                    tls_params: tls_params.clone(),
                },
            ),
            _ => ("redis", ConnectionAddr::Tcp(host.to_owned(), port)),
        };
        Self {
            given: format!("{scheme}://{host}:{port}/0"),
            info: Arc::new(ConnectionInfo::clone(&self.info).set_addr(addr)),
        }
    }

    /// Whether it is `rediss://` (TLS).
    pub fn is_tls(&self) -> bool {
        matches!(self.info.addr(), ConnectionAddr::TcpTls { .. })
    }

    /// `host:port` of a TCP URL (`redis://` or `rediss://`); `None` for a unix socket.
    pub fn tcp_addr(&self) -> Option<(String, u16)> {
        match self.info.addr() {
            ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => {
                Some((host.clone(), *port))
            }
            _ => None,
        }
    }

    /// The database number it selects (`/0` when it names none).
    pub fn db(&self) -> i64 {
        self.info.redis_settings().db()
    }

    /// The user name it carries, if any.
    pub fn user(&self) -> Option<&str> {
        self.info.redis_settings().username()
    }

    /// The password it carries, if any.
    pub fn password(&self) -> Option<Secret> {
        self.info
            .redis_settings()
            .password()
            .map(|p| Secret(p.to_owned()))
    }
}

/// The URL as given, its password (and any `password=`-like query value) as `***`.
impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.given))
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RedisUrl")
            .field(&format_args!("{self}"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shapes_of_urls() {
        let u = RedisUrl::parse("redis://user:pw@h:1/3").unwrap();
        assert_eq!(u.to_string(), "redis://user:***@h:1/3");
        assert_eq!(format!("{u:?}"), r"RedisUrl(redis://user:***@h:1/3)");
        assert_eq!((u.user(), u.db(), u.is_tls()), (Some("user"), 3, false));
        assert_eq!(u.tcp_addr(), Some(("h".to_owned(), 1)));
        assert_eq!(format!("{:?}", u.password()), "Some(***)");
        let u = RedisUrl::parse("redis+unix:///tmp/r.sock?db=0&pass=pw").unwrap();
        assert_eq!(u.tcp_addr(), None);
        assert_eq!(u.to_string(), "redis+unix:///tmp/r.sock?db=0&pass=***");
        let node = RedisUrl::parse("redis://:pw@h:1")
            .unwrap()
            .node("10.0.0.2", 7001);
        assert_eq!(node.to_string(), "redis://10.0.0.2:7001/0");
        assert_eq!(node.password().unwrap().expose(), "pw");
    }

    /// A password holding a quote: text redaction stops at the quote, the URL's own does not.
    #[test]
    fn a_quote_in_the_password_stays_hidden() {
        let u = RedisUrl::parse("redis://:pw'x@127.0.0.1:1/0").unwrap();
        assert_eq!(u.to_string(), "redis://:***@127.0.0.1:1/0");
    }

    #[test]
    fn unparsable_urls_are_shown_redacted() {
        let e = RedisUrl::parse("redis://u:pw@h:x").unwrap_err();
        let _: &BadUrl = &e;
        assert!(!e.to_string().contains("pw"), "{e}");
        assert!(!format!("{e:?}").contains("pw"), "{e:?}");
    }

    proptest! {
        #[test]
        fn passwords_never_show(user in "[a-z]{0,8}", pw in "[a-zA-Z0-9'\"`!$&()+,;=]{1,12}") {
            let text = format!("redis://{user}:{pw}@127.0.0.1:6379/0");
            if let Ok(u) = RedisUrl::parse(&text) {
                let marker = format!(":{pw}@");
                prop_assert!(!u.to_string().contains(&marker), "{}", u);
                prop_assert!(!format!("{u:?}").contains(&marker), "{:?}", u);
            }
        }
    }
}
