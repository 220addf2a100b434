//! Opening a listener: [`bind`], with `SO_REUSEADDR` and the listen queue every server shares.

use std::io;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use super::io_error::describe_io;

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

#[cfg(test)]
mod tests {
    use super::*;

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
