//! The check before the stream client is given a peer: a TCP connection (and the TLS handshake
//! for `rabbitmq-stream+tls://`) of our own, the stream protocol's first request
//! (`PeerProperties`), and its answer read with a bound on its size and time.
//!
//! The stream client (`rabbitmq-stream-client`) has no deadline of its own, reads whatever frame
//! size a peer announces (a buffer that grows with what the peer sends), and panics on some
//! malformed answers. So a peer reaches it only after this check has seen it answer like a
//! stream broker; anything else ends here, in one line that says what the peer seems to be and
//! what to do: nothing listening (the plugin off), the AMQP 0-9-1 port, Redis, HTTP, a TLS port
//! behind a plain URL (or the reverse), silence, a frame header announcing megabytes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::duration::duration;
use common::net::describe_io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::error::StreamError;
use super::url::StreamUrl;

/// The largest first answer we read: a `PeerProperties` response is a few hundred bytes.
pub const MAX_FIRST_FRAME: u32 = 64 * 1024;

/// `PeerProperties` (key 0x0011, version 1, correlation id 1, no properties), size first.
const PEER_PROPERTIES: [u8; 16] = [0, 0, 0, 12, 0x00, 0x11, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0];
/// The key of its response.
const PEER_PROPERTIES_RESPONSE: u16 = 0x8011;

/// What the probe found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The broker's `product` and `version` peer properties (`RabbitMQ 3.10.8`).
    pub server: String,
}

/// Checks that `url`'s peer answers like a RabbitMQ stream broker before `deadline`; `tls` is the
/// client configuration for `rabbitmq-stream+tls://` URLs.
pub async fn check(
    url: &StreamUrl,
    tls: Option<&Arc<rustls::ClientConfig>>,
    deadline: Instant,
) -> Result<Peer, StreamError> {
    let fail = |reason: String, permanent: bool| StreamError::Connect {
        url: url.redacted(),
        reason,
        permanent,
    };
    let allowed = deadline.saturating_duration_since(Instant::now());
    let addr = url.address();
    let tcp = match tokio::time::timeout_at(
        deadline.into(),
        TcpStream::connect((url.host.as_str(), url.port)),
    )
    .await
    {
        Err(_) => {
            return Err(fail(
                format!("no TCP connection to {addr} within {}", duration(allowed)),
                false,
            ));
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Err(fail(
                format!(
                    "connection refused: nothing listens on {addr} (is the stream plugin \
                     enabled? rabbitmq-plugins enable rabbitmq_stream)"
                ),
                false,
            ));
        }
        Ok(Err(e)) => return Err(fail(describe_io(&e), false)),
        Ok(Ok(tcp)) => tcp,
    };
    let _ = tcp.set_nodelay(true);
    let Some(config) = tls.filter(|_| url.tls) else {
        return exchange(tcp, deadline, allowed, false)
            .await
            .map_err(|(r, p)| fail(r, p));
    };
    let name = rustls::pki_types::ServerName::try_from(url.host.clone()).map_err(|e| {
        fail(
            format!("'{}' is not a TLS server name: {e}", url.host),
            true,
        )
    })?;
    let connector = tokio_rustls::TlsConnector::from(config.clone());
    match tokio::time::timeout_at(deadline.into(), connector.connect(name, tcp)).await {
        Err(_) => Err(fail(
            format!(
                "no TLS handshake within {}: is {addr} a plain-text stream port? (then use a \
                 rabbitmq-stream:// URL)",
                duration(allowed)
            ),
            false,
        )),
        Ok(Err(e)) => Err(fail(tls_failure(&e, &addr), true)),
        Ok(Ok(stream)) => exchange(stream, deadline, allowed, true)
            .await
            .map_err(|(r, p)| fail(r, p)),
    }
}

/// A failed TLS handshake in words.
fn tls_failure(e: &std::io::Error, addr: &str) -> String {
    if let Some(words) = common::tls::describe_error(e) {
        return format!("TLS handshake with {addr} failed: {words}");
    }
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => format!(
            "{addr} closed the connection during the TLS handshake: is it a plain-text stream \
             port? (then use a rabbitmq-stream:// URL)"
        ),
        _ => format!("TLS handshake with {addr} failed: {}", describe_io(e)),
    }
}

/// Sends `PeerProperties` and reads the answer; the error says why and whether it is final.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    deadline: Instant,
    allowed: Duration,
    tls: bool,
) -> Result<Peer, (String, bool)> {
    let at = tokio::time::Instant::from_std(deadline);
    let within = |d| tokio::time::timeout_at(at, d);
    match within(s.write_all(&PEER_PROPERTIES)).await {
        Err(_) => {
            return Err((
                format!("could not send within {}", duration(allowed)),
                false,
            ));
        }
        Ok(Err(e)) => return Err((describe_io(&e), false)),
        Ok(Ok(())) => {}
    }
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < head.len() {
        match tokio::time::timeout_at(at, s.read(&mut head[got..])).await {
            Err(_) if got == 0 => {
                return Err((
                    format!(
                        "no answer within {}: not a RabbitMQ stream port? (streams listen on \
                         5552, 5551 with TLS; AMQP 0-9-1 on 5672)",
                        duration(allowed)
                    ),
                    true,
                ));
            }
            Ok(Ok(0)) if got == 0 => {
                return Err((
                    "the peer closed the connection without answering: not a RabbitMQ stream \
                     port? (a broker still starting, or one whose stream plugin is off)"
                        .to_owned(),
                    false,
                ));
            }
            Err(_) | Ok(Ok(0)) => return Err((incomplete(&head[..got]), true)),
            Ok(Ok(n)) => got += n,
            Ok(Err(e)) => return Err((describe_io(&e), false)),
        }
    }
    let size = u32::from_be_bytes(head);
    if !(4..=MAX_FIRST_FRAME).contains(&size) {
        return Err((not_stream(head, size, tls), true));
    }
    let mut frame = vec![0u8; size as usize];
    match tokio::time::timeout_at(at, s.read_exact(&mut frame)).await {
        Err(_) => return Err(("the answer stopped half-way".to_owned(), true)),
        Ok(Err(e)) => {
            return Err((
                format!("the answer stopped half-way: {}", describe_io(&e)),
                true,
            ));
        }
        Ok(Ok(_)) => {}
    }
    let key = u16::from_be_bytes([frame[0], frame[1]]);
    if key != PEER_PROPERTIES_RESPONSE {
        return Err((
            format!("not a RabbitMQ stream broker: it answered a frame of key {key:#06x}"),
            true,
        ));
    }
    let _ = tokio::time::timeout_at(at, s.shutdown()).await;
    Ok(Peer {
        server: server(&frame).unwrap_or_else(|| "a RabbitMQ stream broker".to_owned()),
    })
}

fn incomplete(head: &[u8]) -> String {
    format!(
        "not a RabbitMQ stream broker: it answered {} byte(s) ({}) and stopped",
        head.len(),
        hex(head)
    )
}

/// What a peer whose first 4 bytes are not a frame size seems to be.
fn not_stream(head: [u8; 4], size: u32, tls: bool) -> String {
    match &head {
        b"AMQP" => "not a RabbitMQ stream port: an AMQP 0-9-1 port (streams listen on 5552, 5551 \
                    with TLS)"
            .to_owned(),
        b"HTTP" => "not a RabbitMQ stream port: an HTTP server".to_owned(),
        [b'-' | b'+' | b'$' | b'*' | b':', ..] => {
            "not a RabbitMQ stream port: it answered like Redis".to_owned()
        }
        [0x15 | 0x16, 0x03, ..] if !tls => {
            "not a plain-text stream port: a TLS port (use a rabbitmq-stream+tls:// URL)".to_owned()
        }
        _ => format!(
            "not a RabbitMQ stream broker: its first frame claims {size} bytes (starting {})",
            hex(&head)
        ),
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `product version` from a `PeerProperties` response: key, version, correlation id, response
/// code, then a map of strings (count, then length-prefixed key and value pairs).
fn server(frame: &[u8]) -> Option<String> {
    let mut rest = frame.get(10..)?;
    let count = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
    rest = &rest[4..];
    let mut text = || -> Option<String> {
        let n = u16::from_be_bytes(rest.get(..2)?.try_into().ok()?) as usize;
        let s = String::from_utf8_lossy(rest.get(2..2 + n)?).into_owned();
        rest = &rest[2 + n..];
        Some(s)
    };
    let (mut product, mut version) = (None, None);
    for _ in 0..count.min(64) {
        let (k, v) = (text()?, text()?);
        match k.as_str() {
            "product" => product = Some(v),
            "version" => version = Some(v),
            _ => {}
        }
    }
    Some(match (product, version) {
        (Some(p), Some(v)) => format!("{p} {v}"),
        (Some(p), None) => p,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_that_are_not_stream_brokers_are_named() {
        assert_eq!(
            not_stream(*b"AMQP", 0, false),
            "not a RabbitMQ stream port: an AMQP 0-9-1 port (streams listen on 5552, 5551 with \
             TLS)"
        );
        assert_eq!(
            not_stream(*b"-ERR", 0, false),
            "not a RabbitMQ stream port: it answered like Redis"
        );
        assert_eq!(
            not_stream([0x15, 0x03, 0x03, 0x00], 0, false),
            "not a plain-text stream port: a TLS port (use a rabbitmq-stream+tls:// URL)"
        );
        assert_eq!(
            not_stream([0xff; 4], u32::MAX, false),
            "not a RabbitMQ stream broker: its first frame claims 4294967295 bytes (starting \
             ffffffff)"
        );
    }

    #[test]
    fn the_server_is_read_from_the_properties() {
        let mut f = vec![0x80, 0x11, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 2];
        for s in ["product", "RabbitMQ", "version", "3.10.8"] {
            f.extend((s.len() as u16).to_be_bytes());
            f.extend(s.as_bytes());
        }
        assert_eq!(server(&f).as_deref(), Some("RabbitMQ 3.10.8"));
        assert_eq!(server(&f[..20]), None, "cut short");
    }
}
