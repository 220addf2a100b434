//! Logging for `redis-ops`: common's levels (`-v` info, `-vv` debug, `-vvv` trace, `RUST_LOG`
//! first), with two guards so that no secret reaches stderr at any verbosity:
//!
//! - every line goes through [`common::redact::redact_all`] before it is written, whoever
//!   logged it (this crate, the redis crate through `log`, deadpool, tokio): a URL's password,
//!   whatever its shape, prints as `***`;
//! - the redis crate's own log is kept at `info` at most, even with `RUST_LOG=trace`: its debug
//!   and trace lines carry connection details and replies that no redaction of URLs can
//!   recognise as secrets.

use std::io::{IsTerminal, Write};

use tracing_subscriber::fmt::MakeWriter;

/// The crates whose own log is kept at `info` at most, whatever the flags or `RUST_LOG` say.
pub const CAPPED: [&str; 2] = ["redis", "deadpool_redis"];

/// Whether an event of `target` at `level` may be shown: everything, except the debug and
/// trace lines of the [`CAPPED`] crates. (An `EnvFilter` directive `redis=info` would not do:
/// targets match by prefix, and it would cap `redis_ops` too.)
pub fn shown(target: &str, level: tracing::Level) -> bool {
    let capped = CAPPED.iter().any(|c| {
        target == *c
            || target
                .strip_prefix(c)
                .is_some_and(|rest| rest.starts_with("::"))
    });
    !capped || level <= tracing::Level::INFO
}

/// Sends `tracing` events (and `log` records) to stderr, redacted. Safe to call more than once.
pub fn init(verbose: u8, quiet: bool) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{Layer, filter, fmt};
    let layer = fmt::layer()
        .with_writer(RedactedStderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_filter(filter::filter_fn(|meta| {
            shown(meta.target(), *meta.level())
        }));
    let _ = tracing_subscriber::registry()
        .with(common::logging::filter(verbose, quiet))
        .with(layer)
        .try_init();
}

/// Makes a [`RedactedLine`] per event.
#[derive(Debug, Clone, Copy)]
pub struct RedactedStderr;

impl<'a> MakeWriter<'a> for RedactedStderr {
    type Writer = RedactedLine;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedLine(Vec::new())
    }
}

/// One event's text, written to stderr redacted when it is dropped (a closed stderr is
/// ignored, never a panic).
#[derive(Debug)]
pub struct RedactedLine(Vec<u8>);

impl Write for RedactedLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactedLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = common::redact::redact_all(&String::from_utf8_lossy(&self.0));
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_redis_crate_is_capped() {
        use tracing::Level;
        assert!(!shown("redis::cluster_handling", Level::DEBUG));
        assert!(!shown("redis", Level::TRACE));
        assert!(shown("redis", Level::INFO));
        assert!(shown("redis_ops::cli::run", Level::TRACE));
        assert!(!shown("deadpool_redis::config", Level::DEBUG));
    }

    #[test]
    fn a_line_is_redacted_whatever_the_url_shape() {
        for shape in [
            "redis://:s3cr3t/x@h:1/0",
            "redis://:s3cr3t x@h",
            "redis://:s3cr3t?x@h",
            "redis://:s3cr3t#x@h",
            "redis://h:1/0?password=s3cr3t",
        ] {
            let text = common::redact::redact_all(&format!("connecting to {shape} now"));
            assert!(!text.contains("s3cr3t"), "{shape}: {text}");
        }
    }
}
