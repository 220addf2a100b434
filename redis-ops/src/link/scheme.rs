//! The wrong scheme, said plainly (issue 22.5): a TLS server behind `redis://` only resets the
//! connection, and a plain Redis behind `rediss://` only waits for the rest of a command that
//! never comes. Each probe is a second, short connection that asks the other question.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a TLS server behind a `redis://` URL is told it is.
pub const SPEAKS_TLS: &str = "the server speaks TLS: use a rediss:// URL";

/// What a plain Redis behind a `rediss://` URL is told it is.
pub const NOT_TLS: &str = "the server does not speak TLS: use a redis:// URL";

/// How long a TLS handshake runs before [`speaks_plain_resp`] is asked beside it.
pub const PLAIN_PROBE_AFTER: Duration = Duration::from_millis(200);

/// Whether `host:port` answers a TLS ClientHello with a TLS record (a handshake or an alert).
/// The caller bounds the time.
pub async fn speaks_tls(host: &str, port: u16) -> bool {
    let Some(hello) = client_hello() else {
        return false;
    };
    let mut head = [0u8; 2];
    async {
        let mut tcp = TcpStream::connect((host, port)).await?;
        tcp.write_all(&hello).await?;
        tcp.read_exact(&mut head).await
    }
    .await
    .is_ok_and(|_| matches!(head, [0x15 | 0x16, 0x03]))
}

/// Whether `host:port` answers an inline `PING` as a plain Redis does (`+PONG`, or an error
/// reply such as `-NOAUTH`). The caller bounds the time.
pub async fn speaks_plain_resp(host: &str, port: u16) -> bool {
    let mut head = [0u8; 1];
    async {
        let mut tcp = TcpStream::connect((host, port)).await?;
        tcp.write_all(b"PING\r\n").await?;
        tcp.read_exact(&mut head).await
    }
    .await
    .is_ok_and(|_| matches!(head, [b'+' | b'-']))
}

/// The bytes of a TLS ClientHello (rustls writes it; nothing is verified: no handshake
/// goes further).
fn client_hello() -> Option<Vec<u8>> {
    common::tls::install_crypto_provider();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let name = ServerName::try_from("redis.invalid").ok()?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).ok()?;
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).ok()?;
    Some(hello)
}
