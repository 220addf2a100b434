//! AMQP URLs (`amqp://user:password@host:port/vhost?heartbeat=30`), parsed the way RabbitMQ's
//! URI specification says, so that we can open the TCP connection ourselves (with a timeout)
//! and hand it to amiquip.
//!
//! - `amqps://` is AMQP over TLS (see `broker/tls.rs`), its default port 5671;
//! - user and password default to `guest`/`guest`, host to `localhost`, port to 5672;
//! - the path is the virtual host, percent-encoded: `/%2f` is `/`, and no path (or a bare `/`)
//!   also means `/`;
//! - the only query parameter understood is `heartbeat` (seconds; 0 turns heartbeats off);
//!   without it we ask for [`DEFAULT_HEARTBEAT`].

use std::fmt;

/// The default broker: RabbitMQ's own default user on this machine.
pub const DEFAULT_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// The heartbeat we ask for when the URL does not set one, in seconds (the broker's default is
/// 60). amiquip gives up on a broker after two heartbeats without a frame from it, so a frozen
/// or vanished broker is noticed within about 20 s, and the consumers reconnect (with the
/// broker's 60 s it took two minutes). The lower of ours and the broker's is used.
pub const DEFAULT_HEARTBEAT: u16 = 10;

/// A parsed AMQP URL.
#[derive(Clone, PartialEq, Eq)]
pub struct AmqpUrl {
    /// User name (decoded).
    pub user: String,
    /// Password (decoded).
    pub password: String,
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Virtual host (decoded).
    pub vhost: String,
    /// Heartbeat interval in seconds, if the URL sets one.
    pub heartbeat: Option<u16>,
    /// `amqps://`: TLS.
    pub tls: bool,
    /// The URL as given, for messages (always shown redacted).
    raw: String,
}

impl fmt::Debug for AmqpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpUrl")
            .field("url", &self.redacted())
            .field("user", &self.user)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("vhost", &self.vhost)
            .field("heartbeat", &self.heartbeat)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl AmqpUrl {
    /// Parses `url`; the error says what is wrong (the caller adds the redacted URL), and never
    /// quotes a part of the URL that may be its password.
    ///
    /// The password is [registered](common::redact::register), so that a broker echoing it
    /// (in a close reason, say) never shows it, unless it is the user name (shown anyway).
    pub fn parse(url: &str) -> Result<Self, String> {
        let parsed = Self::parse_raw(url).map_err(|reason| scrub(&reason, url))?;
        if parsed.password != parsed.user {
            common::redact::register(&parsed.password);
        }
        Ok(parsed)
    }

    fn parse_raw(url: &str) -> Result<Self, String> {
        let (tls, rest) = match (url.strip_prefix("amqps://"), url.strip_prefix("amqp://")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => return Err("it must start with amqp:// or amqps://".into()),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        if rest.contains('#') {
            return Err("a URL fragment (#...) means nothing here".into());
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => ("guest".to_owned(), "guest".to_owned()),
            Some(info) => match info.split_once(':') {
                Some((u, p)) => (decode(u, "user name")?, decode(p, "password")?),
                None => (decode(info, "user name")?, "guest".to_owned()),
            },
        };
        let (host, port) = split_host_port(hostport, if tls { 5671 } else { 5672 })?;
        let vhost = match path {
            None | Some("") => "/".to_owned(),
            Some(p) if p.contains('/') => {
                return Err("the virtual host is one path segment (write / as %2f)".into());
            }
            Some(p) => decode(p, "virtual host")?,
        };
        let mut heartbeat = None;
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            if pair.is_empty() {
                continue;
            }
            if let Some(("heartbeat", v)) = pair.split_once('=') {
                let seconds = v
                    .parse::<u16>()
                    .map_err(|_| format!("heartbeat must be 0-65535 seconds, not '{v}'"))?;
                heartbeat = Some(seconds);
            } else {
                let name = pair.split_once('=').map_or(pair, |(k, _)| k);
                return Err(format!(
                    "unsupported URL parameter '{name}' (only heartbeat is understood)"
                ));
            }
        }
        Ok(Self {
            user,
            password,
            host,
            port,
            vhost,
            heartbeat,
            tls,
            raw: url.to_owned(),
        })
    }

    /// The URL as given, with the password replaced by `***`.
    pub fn redacted(&self) -> String {
        common::redact::redact_url(&self.raw)
    }
}

/// A reason quotes parts of the URL (`'...'`); a URL of odd shape (`amqp://u:pw/x@host`) may
/// make a part of its credentials look like a port or a host. Whatever is quoted and appears
/// before the URL's last `@` (where credentials are) is replaced by `***`.
fn scrub(reason: &str, url: &str) -> String {
    let Some(at) = url.rfind('@') else {
        return reason.to_owned();
    };
    let credentials = &url[..at];
    let mut out = String::with_capacity(reason.len());
    let mut parts = reason.split('\'');
    // Even parts are outside quotes, odd ones inside.
    let mut inside = false;
    let mut first = true;
    for part in parts.by_ref() {
        if !first {
            out.push('\'');
        }
        first = false;
        if inside && !part.is_empty() && credentials.contains(part) {
            out.push_str("***");
        } else {
            out.push_str(part);
        }
        inside = !inside;
    }
    out
}

fn split_host_port(hostport: &str, default_port: u16) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| "an IPv6 host needs its closing ]".to_owned())?;
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("'{h}' is not an IPv6 address"));
        }
        match after {
            "" => (h, None),
            p => match p.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None => return Err("garbage after the IPv6 host".into()),
            },
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, _)) if h.contains(':') => {
                return Err("write an IPv6 host in brackets, like [::1]:5672".into());
            }
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let host = if host.is_empty() { "localhost" } else { host };
    let port = match port {
        None | Some("") => default_port,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("the port must be between 1 and 65535, not '{p}'")),
        },
        Some(p) => return Err(format!("Ports must be integers (got '{p}').")),
    };
    Ok((host.to_owned(), port))
}

/// Percent-decodes one URL component.
fn decode(s: &str, what: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-escape in the {what}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("the {what} is not UTF-8 once decoded"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> AmqpUrl {
        AmqpUrl::parse(s).unwrap()
    }

    #[test]
    fn the_default_url() {
        let u = parse(DEFAULT_URL);
        assert_eq!(
            (&*u.user, &*u.password, &*u.host, u.port, &*u.vhost),
            ("guest", "guest", "127.0.0.1", 5672, "/")
        );
        assert_eq!(u.redacted(), "amqp://guest:***@127.0.0.1:5672/%2f");
        assert!(!format!("{u:?}").contains(":guest@"), "{u:?}");
    }

    #[test]
    fn defaults_and_decoding() {
        let u = parse("amqp://");
        assert_eq!(
            (&*u.user, &*u.host, u.port, &*u.vhost),
            ("guest", "localhost", 5672, "/")
        );
        let u = parse("amqp://a%40b:p%3Aw@h:1234/my%2Fvhost?heartbeat=5");
        assert_eq!(
            (
                &*u.user,
                &*u.password,
                &*u.host,
                u.port,
                &*u.vhost,
                u.heartbeat
            ),
            ("a@b", "p:w", "h", 1234, "my/vhost", Some(5))
        );
        assert_eq!(parse("amqp://h/").vhost, "/");
        assert_eq!(parse("amqp://h/dev").vhost, "dev");
        assert_eq!(parse("amqp://u@h").password, "guest");
        let u = parse("amqp://[::1]:5673/%2f");
        assert_eq!((&*u.host, u.port), ("::1", 5673));
        assert!(!u.tls);
        let u = parse("amqps://u:p@broker.example/%2f");
        assert_eq!((&*u.host, u.port, u.tls), ("broker.example", 5671, true));
        assert_eq!(parse("amqps://h:5673").port, 5673);
    }

    #[test]
    fn bad_urls_say_why() {
        for (url, why) in [
            ("http://h", "it must start with amqp:// or amqps://"),
            ("amqp://h:abc", "Ports must be integers (got 'abc')."),
            (
                "amqp://h:0",
                "the port must be between 1 and 65535, not '0'",
            ),
            (
                "amqp://h:70000",
                "the port must be between 1 and 65535, not '70000'",
            ),
            (
                "amqp://h/a/b",
                "the virtual host is one path segment (write / as %2f)",
            ),
            ("amqp://h/%zz", "bad percent-escape in the virtual host"),
            (
                "amqp://::1:5672",
                "write an IPv6 host in brackets, like [::1]:5672",
            ),
            (
                "amqp://h?frame_max=1",
                "unsupported URL parameter 'frame_max' (only heartbeat is understood)",
            ),
            (
                "amqp://h?heartbeat=x",
                "heartbeat must be 0-65535 seconds, not 'x'",
            ),
        ] {
            assert_eq!(AmqpUrl::parse(url).unwrap_err(), why, "{url}");
        }
    }

    proptest! {
        #[test]
        fn nothing_panics(s in "amqp://[a-z0-9:@%/?=&\\[\\].#]{0,30}") {
            let _ = AmqpUrl::parse(&s);
        }

        #[test]
        fn passwords_never_show(user in "[a-z]{1,8}", pw in "[a-zA-Z0-9]{1,12}") {
            let u = parse(&format!("amqp://{user}:{pw}@h:5672/%2f"));
            prop_assert_eq!(&u.password, &pw);
            prop_assert_eq!(u.redacted(), format!("amqp://{user}:***@h:5672/%2f"));
        }
    }
}
