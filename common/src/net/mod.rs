//! Sockets every tool shares: [`bind`] a listener, [`serve`](serve::serve) connections on it
//! (permit before accept, grace period, abort), [`describe_io`], the one way an I/O error is
//! put in words, and [`run_server`], the life of every server binary around them.

mod life;
pub mod serve;

use std::io;
use std::net::SocketAddr;

use tokio::net::TcpListener;

pub use life::{Listening, Shutdown, run_server};
pub use serve::{Ctx, ServeStats, serve};

/// The listen queue of every server: clients beyond `--max-connections` wait here.
pub const BACKLOG: u32 = 4096;

/// A listener that could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {}", describe_io(source))]
pub struct BindError {
    /// Where.
    pub addr: SocketAddr,
    /// Why.
    pub source: io::Error,
}

impl crate::exit::ExitStatus for BindError {}

/// Binds a TCP listener on `addr` (port 0 picks a free port) with `SO_REUSEADDR` and a listen
/// queue of [`BACKLOG`]. Must be called inside a tokio runtime.
pub fn bind(addr: SocketAddr) -> Result<TcpListener, BindError> {
    let listen = || -> io::Result<TcpListener> {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(BACKLOG)
    };
    listen().map_err(|source| BindError { addr, source })
}

/// An I/O error in a few lower-case words: `connection refused`, not
/// `Connection refused (os error 111)`; `address already in use`; `timed out`.
pub fn describe_io(e: &io::Error) -> String {
    use io::ErrorKind as K;
    let words = match e.kind() {
        K::ConnectionRefused => "connection refused",
        K::ConnectionReset => "connection reset by peer",
        K::ConnectionAborted => "connection aborted",
        K::BrokenPipe => "the peer closed the connection",
        K::UnexpectedEof => "the peer closed the connection early",
        K::TimedOut => "timed out",
        K::HostUnreachable => "host unreachable",
        K::NetworkUnreachable => "network unreachable",
        K::AddrInUse => "address already in use",
        K::AddrNotAvailable => "address not available",
        K::NotFound => "not found",
        K::PermissionDenied => "permission denied",
        _ => "",
    };
    if !words.is_empty() {
        return words.to_owned();
    }
    let text = e.to_string();
    let text = text
        .find(" (os error")
        .map_or(text.as_str(), |i| &text[..i]);
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => format!("{:?}", e.kind()).to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_in_short_words() {
        assert_eq!(
            describe_io(&io::Error::from_raw_os_error(111)),
            "connection refused"
        );
        assert_eq!(
            describe_io(&io::Error::from_raw_os_error(24)),
            "too many open files"
        );
        assert_eq!(
            describe_io(&io::Error::other("Broken frame")),
            "broken frame"
        );
    }

    #[tokio::test]
    async fn bind_reports_the_address_and_the_cause() {
        let first = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = first.local_addr().unwrap();
        // SO_REUSEADDR does not let two sockets listen on one port.
        let err = bind(addr).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("cannot listen on {addr}: address already in use")
        );
    }
}
