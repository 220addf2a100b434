//! `rediss://`: the timeout message with its TLS hint. (The trust itself is
//! [`super::Redis::tls_connector`]'s, for every socket.)

use std::time::Duration;

use common::duration::duration;

/// `timed out after 2.0 s`, with a hint for a `rediss://` URL: a plain-text server takes the
/// TLS handshake for the start of a command and never answers.
pub fn timed_out(after: Duration, tls: bool) -> String {
    if tls {
        format!(
            "timed out after {} (rediss://: does the server speak TLS on this port?)",
            duration(after)
        )
    } else {
        format!("timed out after {}", duration(after))
    }
}
