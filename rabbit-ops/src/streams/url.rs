//! Stream URLs: `rabbitmq-stream://user:password@host:5552/vhost`, and
//! `rabbitmq-stream+tls://...` (TLS, port 5551 by default), the scheme the other stream clients
//! (Java, Go, .NET) use.
//!
//! - user and password default to `guest`/`guest`, host to `localhost`, port to 5552 (5551 with
//!   TLS);
//! - the path is the virtual host, percent-encoded: `/%2f` is `/`, and no path (or a bare `/`)
//!   also means `/`;
//! - no query parameter is understood (one is an error, not silently ignored).
//!
//! [`StreamUrl`] never shows its password: its `Display` and `Debug` print `***` in its place.

use std::fmt;

use crate::url::Parts;

/// The default stream URL: RabbitMQ's own default user on this machine.
pub const DEFAULT_STREAM_URL: &str = "rabbitmq-stream://guest:guest@127.0.0.1:5552/%2f";
/// The environment variable the stream commands read their URL from (when no `--url` is a
/// stream URL).
pub const STREAM_URL_ENV: &str = "RABBITMQ_STREAM_URL";
/// The plain-text scheme.
pub const SCHEME: &str = "rabbitmq-stream://";
/// The TLS scheme.
pub const TLS_SCHEME: &str = "rabbitmq-stream+tls://";

/// Whether `url` is a stream URL (either scheme), by its prefix only.
pub fn is_stream_url(url: &str) -> bool {
    url.starts_with(SCHEME) || url.starts_with(TLS_SCHEME)
}

/// A parsed stream URL.
#[derive(Clone, PartialEq, Eq)]
pub struct StreamUrl {
    /// User name (decoded).
    pub user: String,
    /// Password (decoded). Never printed.
    pub password: String,
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Virtual host (decoded).
    pub vhost: String,
    /// `rabbitmq-stream+tls://`.
    pub tls: bool,
    /// The URL as given, for messages (always shown redacted).
    raw: String,
}

impl fmt::Display for StreamUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for StreamUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamUrl")
            .field("url", &self.redacted())
            .field("user", &self.user)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("vhost", &self.vhost)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl StreamUrl {
    /// Parses `url`; the error says what is wrong (the caller adds the redacted URL) and never
    /// quotes the password. The password is [registered](common::redact::register), as an AMQP
    /// URL's is, unless it is the user name (shown anyway).
    pub fn parse(url: &str) -> Result<Self, String> {
        let (tls, rest) = match (url.strip_prefix(TLS_SCHEME), url.strip_prefix(SCHEME)) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => {
                return Err(format!("it must start with {SCHEME} or {TLS_SCHEME}"));
            }
        };
        if rest.contains(['?', '#']) {
            return Err("a stream URL takes no query (?...) nor fragment (#...)".into());
        }
        let Parts {
            user,
            password,
            host,
            port,
            vhost,
        } = Parts::parse(rest, if tls { 5551 } else { 5552 })?;
        check_host(&host)?;
        if password != user {
            common::redact::register(&password);
        }
        Ok(Self {
            user,
            password,
            host,
            port,
            vhost,
            tls,
            raw: url.to_owned(),
        })
    }

    /// The URL as given, with the password replaced by `***`.
    pub fn redacted(&self) -> String {
        common::redact::redact_url(&self.raw)
    }

    /// `host:port` (an IPv6 host in brackets), for messages and `connect`.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The host of a stream URL must also be a name the TLS layer accepts (letters, digits, `-`,
/// `.`) or an IP literal: the stream client would panic on anything else.
fn check_host(host: &str) -> Result<(), String> {
    let name = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
    if !host.bytes().all(name) && host.parse::<std::net::Ipv6Addr>().is_err() {
        return Err(format!(
            "'{host}' is not a host name (letters, digits, '-' and '.') nor an IP address"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> StreamUrl {
        StreamUrl::parse(s).unwrap()
    }

    #[test]
    fn the_default_url() {
        let u = parse(DEFAULT_STREAM_URL);
        assert_eq!(
            (&*u.user, &*u.password, &*u.host, u.port, &*u.vhost, u.tls),
            ("guest", "guest", "127.0.0.1", 5552, "/", false)
        );
        assert_eq!(
            u.to_string(),
            "rabbitmq-stream://guest:***@127.0.0.1:5552/%2f"
        );
        assert!(!format!("{u:?}").contains(":guest@"), "{u:?}");
        assert_eq!(u.address(), "127.0.0.1:5552");
    }

    #[test]
    fn defaults_decoding_and_tls() {
        let u = parse("rabbitmq-stream://");
        assert_eq!((&*u.host, u.port, &*u.vhost), ("localhost", 5552, "/"));
        let u = parse("rabbitmq-stream+tls://a%40b:p%3Aw@h.example/my%2Fvhost");
        assert_eq!(
            (&*u.user, &*u.password, &*u.host, u.port, &*u.vhost, u.tls),
            ("a@b", "p:w", "h.example", 5551, "my/vhost", true)
        );
        let u = parse("rabbitmq-stream://[::1]:5553/");
        assert_eq!(
            (&*u.host, u.port, u.address().as_str()),
            ("::1", 5553, "[::1]:5553")
        );
        assert!(is_stream_url("rabbitmq-stream+tls://x"));
        assert!(!is_stream_url("amqp://x"));
    }

    #[test]
    fn bad_urls_say_why() {
        for (url, why) in [
            (
                "amqp://h",
                "it must start with rabbitmq-stream:// or rabbitmq-stream+tls://",
            ),
            (
                "rabbitmq-stream://h:abc",
                "Ports must be integers (got 'abc').",
            ),
            (
                "rabbitmq-stream://h:0",
                "the port must be between 1 and 65535, not '0'",
            ),
            (
                "rabbitmq-stream://h/a/b",
                "the virtual host is one path segment (write / as %2f)",
            ),
            (
                "rabbitmq-stream://h?x=1",
                "a stream URL takes no query (?...) nor fragment (#...)",
            ),
            (
                "rabbitmq-stream://h_x:5552",
                "'h_x' is not a host name (letters, digits, '-' and '.') nor an IP address",
            ),
        ] {
            assert_eq!(StreamUrl::parse(url).unwrap_err(), why, "{url}");
        }
    }

    proptest! {
        #[test]
        fn nothing_panics(s in "rabbitmq-stream(\\+tls)?://[a-z0-9:@%/?=&\\[\\].#_]{0,30}") {
            let _ = StreamUrl::parse(&s);
        }

        #[test]
        fn passwords_never_show(user in "[a-z]{1,8}", pw in "[a-zA-Z0-9]{1,12}") {
            let u = parse(&format!("rabbitmq-stream://{user}:{pw}@h:5552/%2f"));
            prop_assert_eq!(&u.password, &pw);
            prop_assert_eq!(u.to_string(), format!("rabbitmq-stream://{user}:***@h:5552/%2f"));
            let debug = format!("{u:?}");
            prop_assert!(!debug.contains(&format!(":{pw}@")), "{}", debug);
        }
    }
}
