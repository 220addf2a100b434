//! I/O errors in words: [`describe_io`].

use std::io;

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
}
