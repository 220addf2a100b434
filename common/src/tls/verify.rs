//! The verifier of `--insecure`, and TLS failures in short words.

use std::error::Error;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{AlertDescription, CertificateError, DigitallySignedStruct, SignatureScheme};

type Cert<'a> = CertificateDer<'a>;
type Dss = DigitallySignedStruct;
/// A handshake signature checked, or why not.
type Signature = Result<HandshakeSignatureValid, rustls::Error>;

/// `--insecure`: any certificate is accepted, whoever signed it and whatever names it holds. The
/// handshake must still be signed by the key of the certificate the server sent (a server
/// without that key cannot finish it).
#[derive(Debug)]
pub(super) struct AnyCertificate {
    pub(super) algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    // The handshake's signature, checked as rustls' own verifier does, for both versions.

    fn verify_tls12_signature(&self, msg: &[u8], cert: &Cert<'_>, dss: &Dss) -> Signature {
        verify_tls12_signature(msg, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(&self, msg: &[u8], cert: &Cert<'_>, dss: &Dss) -> Signature {
        verify_tls13_signature(msg, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The first [`rustls::Error`] in an error's chain (an `io::Error` wrapping one included), in
/// short words for a one-line message: `the server's certificate is not signed by a trusted CA
/// (give its CA with --cacert)`, `the server's certificate is for localhost, not example.com`,
/// `the server refused the client certificate (unknown CA)`... `None` when the chain holds no
/// rustls error.
pub fn describe_error(err: &(dyn Error + 'static)) -> Option<String> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(describe(tls));
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(tls) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(describe(tls));
        }
        cur = e.source();
    }
    None
}

/// A rustls error in short words (see [`describe_error`]).
pub fn describe(err: &rustls::Error) -> String {
    use rustls::Error as E;
    match err {
        E::InvalidCertificate(c) => describe_certificate(c),
        E::AlertReceived(alert) => describe_alert(*alert),
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => {
            "the server does not speak TLS (a plain-text server behind a TLS URL?)".into()
        }
        E::PeerIncompatible(_) => "the server offers no TLS version or cipher in common".into(),
        E::NoCertificatesPresented => "the server sent no certificate".into(),
        other => format!("TLS: {other}"),
    }
}

fn describe_certificate(err: &CertificateError) -> String {
    use CertificateError as C;
    let what = "the server's certificate";
    match err {
        C::UnknownIssuer => {
            format!("{what} is not signed by a trusted CA (give its CA with --cacert)")
        }
        C::NotValidForNameContext {
            expected,
            presented,
        } => format!(
            "{what} is for {}, not {}",
            if presented.is_empty() {
                "no name".to_owned()
            } else {
                presented
                    .iter()
                    .map(|n| plain_name(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            expected.to_str()
        ),
        C::NotValidForName => format!("{what} is not for this host name"),
        C::Expired | C::ExpiredContext { .. } => format!("{what} has expired"),
        C::NotValidYet | C::NotValidYetContext { .. } => format!("{what} is not valid yet"),
        C::Revoked => format!("{what} is revoked"),
        C::BadSignature => format!("{what} has a bad signature"),
        C::BadEncoding => format!("{what} is malformed"),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            format!("{what} is not meant for a TLS server")
        }
        other => format!("{what} is not valid: {other}"),
    }
}

/// A name as webpki presents it (`DnsName("a.example")`, `IpAddress(127.0.0.1)`), plainly.
fn plain_name(name: &str) -> &str {
    name.strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .or_else(|| {
            name.strip_prefix("IpAddress(")
                .and_then(|n| n.strip_suffix(')'))
        })
        .unwrap_or(name)
}

fn describe_alert(alert: AlertDescription) -> String {
    use AlertDescription as A;
    match alert {
        A::CertificateRequired => {
            "the server requires a client certificate (give one with --cert and --key)".into()
        }
        A::BadCertificate
        | A::UnknownCA
        | A::CertificateUnknown
        | A::UnsupportedCertificate
        | A::CertificateExpired
        | A::CertificateRevoked
        | A::AccessDenied => format!(
            "the server refused the client certificate ({})",
            alert_words(alert)
        ),
        A::HandshakeFailure => "the server ended the TLS handshake (handshake failure)".into(),
        A::ProtocolVersion => "the server refused our TLS versions".into(),
        other => format!("the server ended TLS ({})", alert_words(other)),
    }
}

/// `UnknownCA` -> `unknown CA`, `BadCertificate` -> `bad certificate`.
fn alert_words(alert: AlertDescription) -> String {
    let name = format!("{alert:?}");
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        let prev_lower = i > 0 && chars[i - 1].is_lowercase();
        if i > 0 && c.is_uppercase() && (prev_lower || next_lower) {
            out.push(' ');
        }
        if c.is_uppercase() && next_lower {
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_in_words() {
        assert_eq!(alert_words(AlertDescription::UnknownCA), "unknown CA");
        assert_eq!(
            alert_words(AlertDescription::BadCertificate),
            "bad certificate"
        );
        assert_eq!(
            alert_words(AlertDescription::CertificateRequired),
            "certificate required"
        );
    }

    #[test]
    fn a_rustls_error_is_found_inside_an_io_error() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        assert_eq!(
            describe_error(&io).unwrap(),
            "the server's certificate is not signed by a trusted CA (give its CA with --cacert)"
        );
        let plain = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(describe_error(&plain), None);
    }
}
