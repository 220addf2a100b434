//! The socket under a [`super::Link`]: plain TCP, or TLS over it for a `rediss://` URL
//! (tokio-rustls with the trust of `--cacert`/`--cert`/`--insecure`, see
//! [`crate::connect::Redis::tls_connector`]). Both read and write the same way; on a plain URL
//! the hot path of `bench` is the `TcpStream` itself. The redis crate's connections run on it
//! too (`crate::connect`), and so may be on a Unix socket (`redis+unix://`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use common::net::describe_io;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// A plain or TLS connection.
pub enum Socket {
    /// `redis://`.
    Plain(TcpStream),
    /// `rediss://`.
    Tls(Box<TlsStream<TcpStream>>),
    /// `redis+unix://` (the redis crate's connections only).
    Unix(UnixStream),
}

/// Connects to `host:port` (TCP_NODELAY), then with `tls` does the TLS handshake checking the
/// certificate against `host`. The failure in short words: `connection refused`, `the server's
/// certificate is not signed by a trusted CA (give its CA with --cacert)`, `the server does not
/// speak TLS (a plain-text server behind a TLS URL?)`; and whether TLS refused it (rustls named
/// the failure: permanent, [`common::probe::Refusal::unreached`]). The caller bounds the time.
pub async fn connect(
    host: &str,
    port: u16,
    tls: Option<&TlsConnector>,
) -> Result<Socket, (String, bool)> {
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|e| (describe_io(&e), false))?;
    let _ = tcp.set_nodelay(true);
    let Some(connector) = tls else {
        return Ok(Socket::Plain(tcp));
    };
    let name = ServerName::try_from(host.to_owned()).map_err(|_| {
        (
            format!("'{host}' is not a name a certificate can be checked against"),
            true,
        )
    })?;
    connector
        .connect(name, tcp)
        .await
        .map(|s| Socket::Tls(Box::new(s)))
        .map_err(|e| {
            let refused = common::tls::describe_error(&e).is_some();
            (describe_tls_io(&e), refused)
        })
}

/// An I/O error of a TLS connection in short words: the TLS reason when there is one.
pub fn describe_tls_io(e: &io::Error) -> String {
    common::tls::describe_error(e).unwrap_or_else(|| match e.kind() {
        io::ErrorKind::UnexpectedEof => {
            "the server closed the connection during the TLS handshake".to_owned()
        }
        _ => describe_io(e),
    })
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Self::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Self::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Self::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Self::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
