//! Address parsing shared by every client and server.
//!
//! The notes' rules, made strict:
//! - `9000` means `127.0.0.1:9000`;
//! - `host:port`, where host is an IPv4 literal or a host name that resolves (`localhost:9000`);
//! - `[::1]:9000` for IPv6 (a bare `::1:9000` is refused: it is ambiguous);
//! - a port that is not all digits: `Ports must be integers.`;
//! - a port outside 1-65535 (0 too, where a server listens on a free port) is refused, naming
//!   the argument.
//!
//! A host name is looked up under a deadline ([`parse_connect_addr_within`]: a client's own
//! timeout; [`LOOKUP_TIMEOUT`] otherwise), not for as long as the system resolver cares to wait:
//! a lookup without an answer in time is `cannot resolve the host: no answer within 5.0 s`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// How long a host name's lookup may take when the caller gives no timeout of its own.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an address argument was refused. Every variant names the argument as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrError {
    /// The argument exactly as the user gave it.
    pub input: String,
    /// What is wrong with it.
    pub kind: AddrErrorKind,
}

/// What is wrong with an address argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrErrorKind {
    /// The argument is empty.
    Empty,
    /// The port part is not a decimal integer.
    PortNotInteger,
    /// The port is a number outside the allowed range.
    PortOutOfRange {
        /// Lowest port allowed here (0 for servers, 1 for clients).
        min: u16,
    },
    /// An IPv6 literal without brackets, or brackets around something that is not IPv6.
    BadIpv6,
    /// The host part is empty (`:9000`).
    EmptyHost,
    /// The host name did not resolve.
    Unresolved(String),
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad address '{}': ", self.input)?;
        match &self.kind {
            AddrErrorKind::Empty => f.write_str("the address is empty"),
            AddrErrorKind::PortNotInteger => f.write_str("Ports must be integers."),
            AddrErrorKind::PortOutOfRange { min } => {
                write!(f, "the port must be between {min} and 65535")
            }
            AddrErrorKind::BadIpv6 => {
                f.write_str("write an IPv6 address in brackets, like [::1]:9000")
            }
            AddrErrorKind::EmptyHost => f.write_str("the host is empty"),
            AddrErrorKind::Unresolved(why) => write!(f, "cannot resolve the host: {why}"),
        }
    }
}

impl std::error::Error for AddrError {}

impl crate::exit::ExitStatus for AddrError {
    fn exit_code(&self) -> u8 {
        crate::exit::USAGE
    }
}

/// Parses an address a client connects to: the port must be 1-65535; a host name's lookup takes
/// [`LOOKUP_TIMEOUT`] at most.
pub fn parse_connect_addr(input: &str) -> Result<SocketAddr, AddrError> {
    parse(input, 1)
}

/// [`parse_connect_addr`] with a host name's lookup bounded by `within` (the timeout that bounds
/// the connection to it).
pub fn parse_connect_addr_within(input: &str, within: Duration) -> Result<SocketAddr, AddrError> {
    parse_with(input, 1, |host, port| {
        resolve_within(host, port, within, resolve)
    })
}

/// Parses an address a server listens on: port 0 (pick a free port) is allowed.
pub fn parse_listen_addr(input: &str) -> Result<SocketAddr, AddrError> {
    parse(input, 0)
}

/// The address a server listens on, from its `--iface` and `--port` options.
pub fn listen_addr(iface: &str, port: u16) -> Result<SocketAddr, AddrError> {
    let host = if iface.contains(':') && !iface.starts_with('[') {
        format!("[{iface}]")
    } else {
        iface.to_owned()
    };
    parse(&format!("{host}:{port}"), 0).map_err(|mut e| {
        iface.clone_into(&mut e.input);
        e
    })
}

fn parse(input: &str, min_port: u16) -> Result<SocketAddr, AddrError> {
    parse_with(input, min_port, |host, port| {
        resolve_within(host, port, LOOKUP_TIMEOUT, resolve)
    })
}

/// The parser, with the host-name resolver passed in (tests use one that never touches DNS).
fn parse_with(
    input: &str,
    min_port: u16,
    resolve: impl Fn(&str, u16) -> Result<IpAddr, String>,
) -> Result<SocketAddr, AddrError> {
    let err = |kind| AddrError {
        input: input.to_owned(),
        kind,
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(err(AddrErrorKind::Empty));
    }
    let (host, port) = match s.rsplit_once(':') {
        None => (None, s),
        Some((host, port)) => (Some(host), port),
    };
    let port = parse_port(port, min_port).map_err(err)?;
    let ip = match host {
        None => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Some("") => return Err(err(AddrErrorKind::EmptyHost)),
        Some(h) if h.starts_with('[') || h.ends_with(']') => {
            let inner = h
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .ok_or_else(|| err(AddrErrorKind::BadIpv6))?;
            // Scope ids (`fe80::1%2`) are only understood by the full socket-address parser.
            return match format!("[{inner}]:{port}").parse::<SocketAddr>() {
                Ok(addr) if addr.is_ipv6() => Ok(addr),
                _ => Err(err(AddrErrorKind::BadIpv6)),
            };
        }
        Some(h) if h.contains(':') => return Err(err(AddrErrorKind::BadIpv6)),
        Some(h) => match h.parse::<Ipv4Addr>() {
            Ok(v4) => IpAddr::V4(v4),
            Err(_) => resolve(h, port).map_err(|why| err(AddrErrorKind::Unresolved(why)))?,
        },
    };
    Ok(SocketAddr::new(ip, port))
}

fn parse_port(port: &str, min: u16) -> Result<u16, AddrErrorKind> {
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AddrErrorKind::PortNotInteger);
    }
    match port.parse::<u16>() {
        Ok(p) if p >= min => Ok(p),
        _ => Err(AddrErrorKind::PortOutOfRange { min }),
    }
}

/// `resolver(host, port)` on a thread of its own, given up after `within`: the system resolver
/// has no timeout we set, and a lookup in progress cannot be cancelled (its thread ends when the
/// resolver answers, or with the process). When the system refuses the thread, the lookup is
/// made here, without the deadline (a tool refused threads says so itself, soon after).
fn resolve_within(
    host: &str,
    port: u16,
    within: Duration,
    resolver: fn(&str, u16) -> Result<IpAddr, String>,
) -> Result<IpAddr, String> {
    let (tx, rx) = mpsc::sync_channel(1);
    let name = host.to_owned();
    let spawned = std::thread::Builder::new()
        .name("lookup".into())
        .spawn(move || {
            let _ = tx.send(resolver(&name, port));
        });
    if spawned.is_err() {
        return resolver(host, port);
    }
    match rx.recv_timeout(within) {
        Ok(answer) => answer,
        Err(RecvTimeoutError::Timeout) => Err(format!(
            "no answer within {}",
            crate::duration::duration(within)
        )),
        Err(RecvTimeoutError::Disconnected) => Err("the lookup failed".to_owned()),
    }
}

/// Resolves a host name, preferring IPv4 (servers in the lessons listen on 127.0.0.1 by default,
/// while `localhost` often resolves to `::1` first).
fn resolve(host: &str, port: u16) -> Result<IpAddr, String> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .map(SocketAddr::ip)
        .ok_or_else(|| "no address found".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        // Any string at all, with a resolver that never leaves the machine.
        #[test]
        fn no_input_panics(s in "\\PC{0,40}", min in 0u16..2) {
            let _ = parse_with(&s, min, |_, _| Err("offline".into()));
        }

        #[test]
        fn no_address_like_input_panics(s in "[0-9a-fA-Z:\\[\\]%.+ -]{0,40}") {
            let _ = parse_with(&s, 1, |_, _| Ok(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        }
    }

    fn ok(s: &str) -> String {
        parse_connect_addr(s).unwrap().to_string()
    }
    fn bad(s: &str) -> String {
        parse_connect_addr(s).unwrap_err().to_string()
    }

    #[test]
    fn bare_port_means_localhost() {
        assert_eq!(ok("9000"), "127.0.0.1:9000");
    }

    #[test]
    fn host_and_port() {
        assert_eq!(ok("10.1.2.3:80"), "10.1.2.3:80");
        assert_eq!(ok("localhost:9000"), "127.0.0.1:9000");
        assert_eq!(ok("[::1]:9000"), "[::1]:9000");
    }

    #[test]
    fn non_numeric_ports() {
        for s in [
            "abc",
            "localhost:abc",
            "1.2.3.4:",
            "9000x",
            "+80",
            "-1",
            "localhost",
        ] {
            assert_eq!(
                bad(s),
                format!("bad address '{s}': Ports must be integers.")
            );
        }
    }

    #[test]
    fn ports_out_of_range() {
        assert_eq!(
            bad("70000"),
            "bad address '70000': the port must be between 1 and 65535"
        );
        assert_eq!(
            bad("host:99999999999999999999"),
            "bad address 'host:99999999999999999999': the port must be between 1 and 65535"
        );
        assert_eq!(
            bad("0"),
            "bad address '0': the port must be between 1 and 65535"
        );
        assert_eq!(parse_listen_addr("0").unwrap().to_string(), "127.0.0.1:0");
        assert_eq!(
            parse_listen_addr("65536").unwrap_err().to_string(),
            "bad address '65536': the port must be between 0 and 65535"
        );
    }

    #[test]
    fn other_errors() {
        assert_eq!(bad(""), "bad address '': the address is empty");
        assert_eq!(bad(":80"), "bad address ':80': the host is empty");
        assert_eq!(
            bad("::1:80"),
            "bad address '::1:80': write an IPv6 address in brackets, like [::1]:9000"
        );
        assert_eq!(
            bad("[1.2.3.4]:80"),
            "bad address '[1.2.3.4]:80': write an IPv6 address in brackets, like [::1]:9000"
        );
    }

    #[test]
    fn a_lookup_without_an_answer_is_given_up_at_the_deadline() {
        fn never(_: &str, _: u16) -> Result<IpAddr, String> {
            std::thread::sleep(Duration::from_hours(1));
            Err("unreachable".into())
        }
        let within = Duration::from_millis(200);
        let started = std::time::Instant::now();
        let e = parse_with("slow.example:80", 1, |h, p| {
            resolve_within(h, p, within, never)
        })
        .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            e.to_string(),
            "bad address 'slow.example:80': cannot resolve the host: no answer within 200.0 ms"
        );
        assert_eq!(
            e.kind,
            AddrErrorKind::Unresolved("no answer within 200.0 ms".into())
        );
        let ok = parse_with("fast.example:80", 1, |h, p| {
            resolve_within(h, p, within, |_, _| Ok(Ipv4Addr::new(192, 0, 2, 7).into()))
        });
        assert_eq!(ok.unwrap().to_string(), "192.0.2.7:80");
    }

    #[test]
    fn listen_from_iface_and_port() {
        assert_eq!(
            listen_addr("localhost", 0).unwrap().to_string(),
            "127.0.0.1:0"
        );
        assert_eq!(listen_addr("::1", 80).unwrap().to_string(), "[::1]:80");
        assert_eq!(
            listen_addr("0.0.0.0", 9000).unwrap().to_string(),
            "0.0.0.0:9000"
        );
        assert_eq!(
            listen_addr("", 80).unwrap_err().to_string(),
            "bad address '': the host is empty"
        );
    }
}
