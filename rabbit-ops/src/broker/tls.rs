//! AMQP over TLS (`amqps://`): native-tls (OpenSSL on Linux), amiquip's own TLS library, on the
//! TCP stream [`handshake`](super::handshake) opened with its timeout, so the same watchdog
//! bounds the TLS handshake and the AMQP one.
//!
//! The TLS handshake is ours ([`tls_handshake`]: blocking, within the deadline), and amiquip
//! gets the encrypted stream as a plain one ([`TlsSocket`]) behind the
//! [`FirstFrameCheck`](super::guard::FirstFrameCheck): the frames are checked after
//! decryption. (amiquip's `Connection::open_tls_stream` would keep the TLS stream to itself,
//! where no check can see the frames: a TLS server announcing a 4 GiB frame cost 4 GiB.) After
//! the handshake, amiquip's TLS stream is a thin wrapper of native-tls's too: reads and writes
//! go straight to OpenSSL, which takes partial writes of a moving buffer.
//!
//! - [`TlsClient`]: the `native_tls::TlsConnector` built once from the checked
//!   [`common::tls::Tls`] (`--cacert`, `--cert`/`--key`, `--insecure`), used by
//!   [`connector`];
//! - [`looks_like_tls`]: the first bytes of a TLS server behind an `amqp://` URL;
//! - [`describe_failure`]: OpenSSL's failures in the words `common::tls::describe` uses for
//!   rustls (`the server's certificate is not signed by a trusted CA (give its CA with
//!   --cacert)`...).

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Instant;

use common::tls::Tls;
use mio06::unix::EventedFd;
use mio06::{Poll, PollOpt, Ready, Token};
use native_tls::{Certificate, HandshakeError, Identity, TlsConnector, TlsStream};
use openssl::pkey::PKey;

use crate::url::AmqpUrl;

/// What a peer that answers a TLS ClientHello with something else than TLS is told it is
/// (`common::tls::describe`'s words).
const NOT_TLS: &str = "the server does not speak TLS (a plain-text server behind a TLS URL?)";
/// A TLS server behind an `amqp://` URL (it answers the AMQP header with a TLS alert).
pub(crate) const SPEAKS_TLS: &str = "the server speaks TLS: use an amqps:// URL";

/// The TLS settings of every `amqps://` connection: a connector built once, before any
/// connection (cheap to clone).
#[derive(Clone)]
pub struct TlsClient {
    connector: TlsConnector,
    /// Whether it presents a client certificate (`--cert`/`--key`).
    client_cert: bool,
}

impl fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsClient")
    }
}

impl TlsClient {
    /// A connector for the checked flags: only the `--cacert` roots when given (else the
    /// system's), the client certificate of `--cert`/`--key`, any certificate and name with
    /// `--insecure`. The error says what OpenSSL refused (the files were already checked).
    pub fn new(tls: &Tls) -> Result<Self, String> {
        let mut builder = TlsConnector::builder();
        let mut cas = 0;
        for der in tls.ca_certs_der() {
            let cert = Certificate::from_der(der)
                .map_err(|e| format!("--cacert: a certificate OpenSSL cannot use: {e}"))?;
            builder.add_root_certificate(cert);
            cas += 1;
        }
        if cas > 0 {
            builder.disable_built_in_roots(true);
        }
        if let (Some(cert), Some(key)) = (tls.client_cert_pem(), tls.client_key_pem()) {
            // native-tls takes a PKCS#8 key only: OpenSSL reads any PEM key and writes that.
            let key = PKey::private_key_from_pem(key)
                .and_then(|k| k.private_key_to_pem_pkcs8())
                .map_err(|e| format!("--key: a private key OpenSSL cannot use: {e}"))?;
            let identity = Identity::from_pkcs8(cert, &key)
                .map_err(|e| format!("--cert/--key: a certificate OpenSSL cannot use: {e}"))?;
            builder.identity(identity);
        }
        if tls.insecure() {
            builder
                .danger_accept_invalid_certs(true)
                .danger_accept_invalid_hostnames(true);
        }
        let connector = builder
            .build()
            .map_err(|e| format!("cannot set up TLS: {e}"))?;
        Ok(Self {
            connector,
            client_cert: tls.has_client_cert(),
        })
    }
}

/// The connector of an `amqps://` connection: `client`'s, else one that trusts the system's
/// roots.
pub(crate) fn connector(client: Option<&TlsClient>) -> amiquip::Result<TlsConnector> {
    match client {
        Some(c) => Ok(c.connector.clone()),
        None => TlsConnector::new().map_err(|source| amiquip::Error::CreateTlsConnector { source }),
    }
}

/// The TLS handshake of an `amqps://` connection on `socket` (blocking, connected), for the
/// server name `host`, by `deadline`: each read and write of the handshake waits at most what is
/// left (the watchdog of [`handshake`](super::handshake) ends a peer that trickles bytes). The
/// errors are amiquip's, as if amiquip had run the handshake: `TlsHandshake` for what OpenSSL
/// refused, `ConnectionTimeout` for the deadline.
pub(crate) fn tls_handshake(
    client: Option<&TlsClient>,
    host: &str,
    socket: TcpStream,
    deadline: Instant,
) -> amiquip::Result<TlsSocket> {
    let io = |source| amiquip::Error::IoErrorReadingSocket { source };
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(amiquip::Error::ConnectionTimeout);
    }
    socket.set_read_timeout(Some(left)).map_err(io)?;
    socket.set_write_timeout(Some(left)).map_err(io)?;
    let stream = match connector(client)?.connect(host, socket) {
        Ok(s) => s,
        Err(HandshakeError::Failure(source)) => {
            return Err(amiquip::Error::TlsHandshake { source });
        }
        // A blocking socket that timed out.
        Err(HandshakeError::WouldBlock(_)) => return Err(amiquip::Error::ConnectionTimeout),
    };
    let tcp = stream.get_ref();
    tcp.set_read_timeout(None).map_err(io)?;
    tcp.set_write_timeout(None).map_err(io)?;
    // amiquip's I/O loop is non-blocking: OpenSSL then answers `WouldBlock` as it should.
    tcp.set_nonblocking(true).map_err(io)?;
    Ok(TlsSocket(stream))
}

/// An `amqps://` connection after its TLS handshake: what amiquip reads and writes is the
/// plain text; its I/O loop polls the TCP socket beneath.
pub(crate) struct TlsSocket(TlsStream<TcpStream>);

impl Read for TlsSocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for TlsSocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Registration is the TCP socket's.
impl mio06::Evented for TlsSocket {
    fn register(&self, p: &Poll, t: Token, i: Ready, o: PollOpt) -> io::Result<()> {
        EventedFd(&self.0.get_ref().as_raw_fd()).register(p, t, i, o)
    }
    fn reregister(&self, p: &Poll, t: Token, i: Ready, o: PollOpt) -> io::Result<()> {
        EventedFd(&self.0.get_ref().as_raw_fd()).reregister(p, t, i, o)
    }
    fn deregister(&self, p: &Poll) -> io::Result<()> {
        EventedFd(&self.0.get_ref().as_raw_fd()).deregister(p)
    }
}

impl amiquip::IoStream for TlsSocket {}

/// Whether the first bytes of a server start a TLS record, a handshake (its ServerHello) or an
/// alert, TLS major version 3: a TLS server behind an `amqp://` URL.
pub(crate) fn looks_like_tls(head: [u8; 7]) -> bool {
    matches!(head, [0x15 | 0x16, 0x03, ..])
}

/// A TLS failure of an `amqps://` connection (`client`: its settings) in short words, and
/// whether it is permanent (waiting will not change a certificate); `None` when `e` is not one.
pub(crate) fn describe_failure(
    url: &AmqpUrl,
    client: Option<&TlsClient>,
    e: &amiquip::Error,
) -> Option<(String, bool)> {
    use std::io::ErrorKind as K;
    if !url.tls {
        return None;
    }
    let io = match e {
        amiquip::Error::TlsHandshake { source } => {
            return describe_openssl(&source.to_string(), &url.host).map(|r| (r, true));
        }
        amiquip::Error::IoErrorReadingSocket { source }
        | amiquip::Error::IoErrorWritingSocket { source } => Some(source),
        amiquip::Error::UnexpectedSocketClose => None,
        _ => return None,
    };
    if let Some(reason) = io.and_then(|io| describe_openssl(&io.to_string(), &url.host)) {
        return Some((reason, true));
    }
    // TLS 1.3: a server that refuses the client's certificate (or its absence) says so after
    // the client finished its side of the handshake; when our AMQP header reaches the closed
    // socket first, its alert is lost to a reset.
    if io.is_none_or(|io| matches!(io.kind(), K::ConnectionReset | K::BrokenPipe)) {
        let why = if client.is_some_and(|c| c.client_cert) {
            "did it refuse the client certificate?"
        } else {
            "does it require a client certificate? (give one with --cert and --key)"
        };
        return Some((
            format!("the server closed the connection right after the TLS handshake: {why}"),
            false,
        ));
    }
    None
}

/// OpenSSL's words (`... certificate verify failed ... (unable to get local issuer
/// certificate)`, `... tlsv13 alert certificate required ...`) in ours.
fn describe_openssl(text: &str, host: &str) -> Option<String> {
    let has = |needle: &str| text.contains(needle);
    let what = "the server's certificate";
    // OpenSSL reads a record header (5 bytes) first: RabbitMQ's `AMQP\0\0\x09\x01` is no version.
    Some(
        if has("wrong version number") || has("packet length too long") {
            NOT_TLS.to_owned()
        } else if has("unable to get local issuer certificate")
            || has("self-signed certificate")
            || has("self signed certificate")
            || has("unable to get issuer certificate")
            || has("unable to verify the first certificate")
        {
            format!("{what} is not signed by a trusted CA (give its CA with --cacert)")
        } else if has("Hostname mismatch") || has("IP address mismatch") {
            format!("{what} is not for {host}")
        } else if has("certificate has expired") {
            format!("{what} has expired")
        } else if has("certificate is not yet valid") {
            format!("{what} is not valid yet")
        } else if has("alert certificate required") {
            "the server requires a client certificate (give one with --cert and --key)".to_owned()
        } else if let Some(alert) = ["unknown ca", "bad certificate", "certificate unknown"]
            .into_iter()
            .find(|a| has(&format!("alert {a}")))
        {
            format!(
                "the server refused the client certificate ({})",
                alert.replace(" ca", " CA")
            )
        } else if has("alert handshake failure") {
            // TLS 1.2: what RabbitMQ answers a missing client certificate with, among others.
            "the server ended the TLS handshake (handshake failure: does it require a client \
         certificate? give one with --cert and --key)"
                .to_owned()
        } else if has("certificate verify failed") {
            format!("{what} does not verify ({})", short(text))
        } else {
            return None;
        },
    )
}

/// OpenSSL's last words in parentheses (`(certificate revoked)`), else the whole text.
fn short(text: &str) -> &str {
    text.rsplit_once('(')
        .and_then(|(_, r)| r.strip_suffix(')'))
        .unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_in_our_words() {
        let unknown = "error:0A000086:SSL routines:tls_post_process_server_certificate:\
                       certificate verify failed:../ssl/statem/statem_clnt.c:2102: (unable to \
                       get local issuer certificate)";
        assert_eq!(
            describe_openssl(unknown, "127.0.0.1").unwrap(),
            "the server's certificate is not signed by a trusted CA (give its CA with --cacert)"
        );
        let name = "error:0A000086:SSL routines::certificate verify failed: (IP address \
                    mismatch)";
        assert_eq!(
            describe_openssl(name, "127.0.0.1").unwrap(),
            "the server's certificate is not for 127.0.0.1"
        );
        let required = "error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate \
                        required:../ssl/record/rec_layer_s3.c:1605:SSL alert number 116";
        assert_eq!(
            describe_openssl(required, "h").unwrap(),
            "the server requires a client certificate (give one with --cert and --key)"
        );
        let refused = "error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca";
        assert_eq!(
            describe_openssl(refused, "h").unwrap(),
            "the server refused the client certificate (unknown CA)"
        );
        assert_eq!(describe_openssl("connection reset by peer", "h"), None);
    }

    #[test]
    fn first_bytes_of_a_tls_server() {
        assert!(looks_like_tls([0x16, 3, 3, 0, 0x7a, 2, 0]));
        assert!(looks_like_tls([0x15, 3, 3, 0, 2, 2, 0x28]));
        assert!(!looks_like_tls(*b"AMQP\0\0\x09"));
        assert!(!looks_like_tls(*b"HTTP/1."));
        assert_eq!(
            describe_openssl("error:0A00010B:SSL routines::wrong version number", "h").unwrap(),
            NOT_TLS
        );
    }
}
