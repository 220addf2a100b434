//! Addresses for network tests, and the candidate ports private servers try.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::net::{AddressFamily, SocketType, bind, getsockname, socket};

/// A TCP address on 127.0.0.1 where nothing listens, so connecting is refused, and where nothing
/// will listen for as long as this process lives: the port is held by a socket that is bound but
/// never listens (the kernel answers a connection to it with a reset). The socket is leaked on
/// purpose. A port merely found free and released could be taken by a test running in parallel.
///
/// # Panics
/// When no socket can be made or bound.
pub fn refused_addr() -> SocketAddr {
    let fd = socket(AddressFamily::INET, SocketType::STREAM, None).expect("a TCP socket");
    bind(
        &fd,
        &SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)),
    )
    .expect("bind 127.0.0.1:0");
    let addr = getsockname(&fd).expect("its address");
    let addr = SocketAddr::try_from(addr).expect("an IPv4 address");
    std::mem::forget(fd);
    addr
}

/// A listener on 127.0.0.1 (a port of its own) that the test never accepts on: a client's
/// connection completes (the kernel's backlog takes it) and then hears nothing, so the client
/// times out; and while the listener lives, the port is taken (a server told to bind it fails).
/// Keep the listener for as long as the address is used.
///
/// # Panics
/// When nothing can be bound.
pub fn silent_listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = l.local_addr().expect("its address");
    (l, addr)
}

/// The first word of `line` that is an `ip:port` address, trailing punctuation aside: the
/// address in a server's `listening on 127.0.0.1:4000 (...)` line.
///
/// # Panics
/// When there is none.
pub fn addr_in(line: &str) -> SocketAddr {
    line.split_whitespace()
        .find_map(|w| {
            w.trim_matches(|c: char| matches!(c, '.' | ',' | ';' | '(' | ')' | '"' | '\''))
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no ip:port address in {line:?}"))
}

/// A port a private server may try to listen on: 20000-29999, below Linux's range of ephemeral
/// ports (32768 and up) so outgoing connections do not hold it, and with `port + 10000` (a Redis
/// Cluster bus, rabbitmqctl's distribution ports) still below 40000. A port where something
/// already answers is skipped; otherwise it is only a candidate: the server's own bind decides,
/// and its starter tries another port when that fails.
pub(crate) fn candidate_port() -> u16 {
    let mut port = 20_000;
    for _ in 0..50 {
        port = 20_000 + u16::try_from(next_random() % 10_000).expect("below 10000");
        let probe = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
        if TcpStream::connect_timeout(&probe, Duration::from_millis(200)).is_err() {
            break;
        }
    }
    port
}

/// A pseudo-random number (splitmix64 over the time, the process and a counter): different in
/// parallel test processes and threads.
pub(crate) fn next_random() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut z = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Connects to an AMQP 0-9-1 server at `addr` (`host:port`), sends the protocol header and
/// reads its answer, which must be a `connection.start` method frame; returns that frame's
/// payload (its server properties name the node, as `cluster_name`). Every step is bounded by
/// `timeout`.
pub(crate) fn amqp_start(addr: &str, timeout: Duration) -> io::Result<Vec<u8>> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{addr}: no address"));
    for a in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => return read_start(s, timeout),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn read_start(mut s: TcpStream, timeout: Duration) -> io::Result<Vec<u8>> {
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    start_on(&mut s)
}

/// Like [`amqp_start`], over TLS on 127.0.0.1:`port`: the handshake verifies the server as
/// `server_name` against the test CA of `pki`, and presents its `client.pem` when `with_cert`.
pub(crate) fn amqps_start(
    pki: &crate::tls::TestPki,
    port: u16,
    server_name: &str,
    with_cert: bool,
    timeout: Duration,
) -> io::Result<Vec<u8>> {
    let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
    let mut tls = crate::tls::connect(pki, addr, server_name, with_cert, timeout)?;
    start_on(&mut tls)
}

/// Sends the AMQP 0-9-1 protocol header on `s` (its reads and writes bounded already) and reads
/// the `connection.start` payload.
fn start_on(s: &mut (impl Read + Write)) -> io::Result<Vec<u8>> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    s.write_all(b"AMQP\x00\x00\x09\x01")?;
    s.flush()?;
    // Frame: type (1 = method), channel (2 bytes), payload size (4 bytes), payload, 0xCE.
    let mut head = [0u8; 7];
    s.read_exact(&mut head)?;
    if head.starts_with(b"AMQP") {
        return Err(bad("the server wants another AMQP version"));
    }
    if head[0] != 1 || head[1..3] != [0, 0] {
        return Err(bad("the answer is not an AMQP method frame on channel 0"));
    }
    let size = u32::from_be_bytes([head[3], head[4], head[5], head[6]]) as usize;
    if size > 1 << 20 {
        return Err(bad("an AMQP frame larger than 1 MiB"));
    }
    let mut payload = vec![0u8; size + 1];
    s.read_exact(&mut payload)?;
    if payload.pop() != Some(0xCE) || !payload.starts_with(&[0, 10, 0, 10]) {
        return Err(bad("the answer is not connection.start"));
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_addr_is_refused_and_reserved() {
        let addr = refused_addr();
        let err = TcpStream::connect(addr).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert!(TcpListener::bind(addr).is_err(), "the port is still free");
    }

    #[test]
    fn silent_listener_takes_connections_and_its_port() {
        let (_l, addr) = silent_listener();
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        // A read with a timeout may also end early with EINTR (another thread's spawn).
        let err = loop {
            let err = s.read(&mut [0u8; 1]).unwrap_err();
            if err.kind() != io::ErrorKind::Interrupted {
                break err;
            }
        };
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "{err:?}"
        );
        assert!(TcpListener::bind(addr).is_err());
    }

    #[test]
    fn addr_in_finds_the_address() {
        let a: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        assert_eq!(addr_in("listening on 127.0.0.1:4000 (tcp)"), a);
        assert_eq!(addr_in("serving poem.txt on 127.0.0.1:4000."), a);
        assert_eq!(
            addr_in("on [::1]:80"),
            "[::1]:80".parse::<SocketAddr>().unwrap()
        );
        assert!(std::panic::catch_unwind(|| addr_in("no address here")).is_err());
    }

    #[test]
    fn candidate_ports_vary_and_stay_in_range() {
        let ports: Vec<u16> = (0..20).map(|_| candidate_port()).collect();
        assert!(ports.iter().all(|p| (20_000..30_000).contains(p)));
        let mut distinct = ports.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() > 10, "{ports:?}");
    }

    #[test]
    fn amqp_start_refuses_what_is_not_amqp() {
        let addr = refused_addr().to_string();
        assert!(amqp_start(&addr, Duration::from_secs(1)).is_err());
        // A server that says something else.
        let (l, addr) = silent_listener();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut header = [0u8; 8];
            s.read_exact(&mut header).unwrap();
            s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").unwrap();
            header
        });
        let err = amqp_start(&addr.to_string(), Duration::from_secs(2)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        assert_eq!(&t.join().unwrap(), b"AMQP\x00\x00\x09\x01");
    }
}
