//! A redis crate error in one short line: the server's own words, an I/O failure in
//! [`common::net::describe_io`]'s words, a TLS failure in [`common::tls::describe`]'s.

use common::net::describe_io;

/// A redis error as one short line: the server's own words (`WRONGTYPE Operation against a key
/// holding the wrong kind of value`), or an I/O failure in [`describe_io`]'s words
/// (`connection refused`, `connection reset by peer`).
pub fn describe(e: &redis::RedisError) -> String {
    // A reply beyond our socket's bounds: which bound.
    if let Some(overrun) = crate::connect::bounded::overrun_of(e) {
        return overrun.to_string();
    }
    // A TLS failure in short words: an unknown CA, a name mismatch, a refused client
    // certificate, a server that does not speak TLS.
    if let Some(tls) = common::tls::describe_error(e).or_else(|| tls_from_text(&e.to_string())) {
        return tls;
    }
    if let (Some(code), Some(detail)) = (e.code(), e.detail()) {
        return format!("{code} {detail}");
    }
    if e.code().is_some() {
        return e.to_string();
    }
    if let Some(io) = io_cause(e) {
        return describe_io(&io);
    }
    if e.is_connection_dropped() {
        return "the server closed the connection".into();
    }
    let text = e.to_string();
    // "password authentication failed - AuthenticationFailed": the words, not the kind.
    let kind = format!(" - {:?}", e.kind());
    let text = text.strip_suffix(&kind).unwrap_or(&text).to_owned();
    if text.starts_with("Redis") {
        return text;
    }
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// A rustls error the redis crate passed on as text only (`invalid peer certificate:
/// UnknownIssuer`, `received fatal alert: UnknownCA`), rebuilt and put in common's short words.
fn tls_from_text(text: &str) -> Option<String> {
    use rustls::{AlertDescription, CertificateError};
    let word = |after: &str| {
        let rest = &text[text.find(after)? + after.len()..];
        Some(
            rest.split(|c: char| !c.is_ascii_alphanumeric())
                .next()
                .unwrap_or("")
                .to_owned(),
        )
    };
    if let Some(alert) = word("received fatal alert: ") {
        let found = (0..=u8::MAX)
            .map(AlertDescription::from)
            .find(|a| format!("{a:?}") == alert)?;
        return Some(common::tls::describe(&rustls::Error::AlertReceived(found)));
    }
    let cert = word("invalid peer certificate: ")?;
    let error = [
        CertificateError::UnknownIssuer,
        CertificateError::BadSignature,
        CertificateError::BadEncoding,
        CertificateError::Expired,
        CertificateError::NotValidYet,
        CertificateError::Revoked,
        CertificateError::NotValidForName,
        CertificateError::InvalidPurpose,
    ]
    .into_iter()
    .find(|c| format!("{c:?}") == cert)?;
    Some(common::tls::describe(&rustls::Error::InvalidCertificate(
        error,
    )))
}

/// The I/O error inside a redis error, rebuilt from what the crate shows of it: its kind
/// (refused, timed out) or its operating-system error number.
fn io_cause(e: &redis::RedisError) -> Option<std::io::Error> {
    use std::io::{Error as IoError, ErrorKind};
    if e.is_connection_refusal() {
        return Some(ErrorKind::ConnectionRefused.into());
    }
    if e.is_timeout() {
        return Some(ErrorKind::TimedOut.into());
    }
    if !e.is_io_error() {
        return None;
    }
    let text = e.to_string();
    let code = text.split("(os error ").nth(1)?.split(')').next()?;
    code.parse().ok().map(IoError::from_raw_os_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_causes_in_short_words() {
        let refused = redis::RedisError::from(std::io::Error::from_raw_os_error(111));
        assert_eq!(describe(&refused), "connection refused");
        let reset = redis::RedisError::from(std::io::Error::from_raw_os_error(104));
        assert_eq!(describe(&reset), "connection reset by peer");
    }

    #[test]
    fn tls_failures_passed_on_as_text_get_short_words() {
        assert_eq!(
            tls_from_text("invalid peer certificate: UnknownIssuer").as_deref(),
            Some(
                "the server's certificate is not signed by a trusted CA (give its CA with --cacert)"
            )
        );
        assert!(
            tls_from_text("received fatal alert: UnknownCA")
                .unwrap()
                .starts_with("the server refused the client certificate")
        );
        assert_eq!(tls_from_text("connection refused"), None);
    }
}
