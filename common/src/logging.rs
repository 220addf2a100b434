//! Logging set-up: `tracing` events to stderr.
//!
//! The level comes from the `-v`/`-q` flags: `-q` errors only, none warnings, `-v` info, `-vv`
//! debug, `-vvv` trace. `RUST_LOG`, when set, takes precedence. Program output (poems, echoes,
//! replies) goes to stdout; diagnostics go to stderr.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// The level filter for `verbose` `-v` flags and `quiet` `-q` flags.
pub fn level(verbose: u8, quiet: bool) -> &'static str {
    match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    }
}

/// The filter: `RUST_LOG` when it is set and valid, else the flags' [`level`].
pub fn filter(verbose: u8, quiet: bool) -> EnvFilter {
    match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new(level(verbose, quiet)))
        }
        _ => EnvFilter::new(level(verbose, quiet)),
    }
}

/// Sends `tracing` events to stderr. Safe to call more than once (later calls do nothing).
pub fn init(verbose: u8, quiet: bool) {
    init_with(verbose, quiet, &Quiet::default());
}

/// What a tool keeps out of its log, whatever the flags or `RUST_LOG` say.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet<'a> {
    /// Directives that apply only when `RUST_LOG` is not set (`"amiquip=off"`): a chatty
    /// dependency quiet at the default levels.
    pub defaults: &'a [&'a str],
    /// Targets (a crate or a module path, matched at `::` boundaries) whose events are shown at
    /// `info` at most, always: their debug and trace lines carry secrets (a SASL response,
    /// an AUTH command) that no redaction of URLs can recognise.
    pub capped: &'a [&'a str],
}

/// Like [`init`], with what the tool keeps quiet. Every line goes through
/// [`crate::redact::redact_all`] before it is written, whoever logged it (this crate or a library
/// through `log`): a URL's password, whatever its shape, prints as `***`. A line a closed stderr
/// cannot take is dropped without a word (never a panic).
pub fn init_with(verbose: u8, quiet: bool, what: &Quiet<'_>) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{Layer, fmt};
    let mut filter = filter(verbose, quiet);
    if std::env::var_os("RUST_LOG").is_none() {
        for directive in what.defaults {
            if let Ok(d) = directive.parse() {
                filter = filter.add_directive(d);
            }
        }
    }
    let capped: Vec<String> = what.capped.iter().map(|s| (*s).to_owned()).collect();
    let layer = fmt::layer()
        .with_writer(RedactedStderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .log_internal_errors(false)
        .with_filter(tracing_subscriber::filter::filter_fn(move |meta| {
            shown(&capped, meta.target(), *meta.level())
        }));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(layer)
        .try_init();
}

/// Whether an event of `target` at `level` may be shown: everything, except the debug and trace
/// lines of the `capped` targets. (An `EnvFilter` directive `redis=info` would not do: targets
/// match by prefix, and it would cap `redis_ops` too.)
fn shown(capped: &[String], target: &str, level: tracing::Level) -> bool {
    let is_capped = capped.iter().any(|c| {
        target == c
            || target
                .strip_prefix(c.as_str())
                .is_some_and(|rest| rest.starts_with("::"))
    });
    !is_capped || level <= tracing::Level::INFO
}

/// Makes a [`RedactedLine`] per event.
#[derive(Debug, Clone, Copy)]
struct RedactedStderr;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RedactedStderr {
    type Writer = RedactedLine;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedLine(Vec::new())
    }
}

/// One event's text, written to stderr redacted when it is dropped (a closed stderr is
/// ignored, never a panic).
#[derive(Debug)]
struct RedactedLine(Vec<u8>);

impl std::io::Write for RedactedLine {
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
        use std::io::Write;
        if self.0.is_empty() {
            return;
        }
        let text = crate::redact::redact_all(&String::from_utf8_lossy(&self.0));
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_pick_the_level() {
        assert_eq!(level(0, true), "error");
        assert_eq!(level(3, true), "error");
        assert_eq!(level(0, false), "warn");
        assert_eq!(level(1, false), "info");
        assert_eq!(level(2, false), "debug");
        assert_eq!(level(9, false), "trace");
    }

    #[test]
    fn capped_targets_match_at_module_boundaries() {
        use tracing::Level;
        let capped = [
            "redis".to_owned(),
            "amiquip::io_loop::handshake_state".to_owned(),
        ];
        assert!(!shown(&capped, "redis::cluster_handling", Level::DEBUG));
        assert!(!shown(&capped, "redis", Level::TRACE));
        assert!(shown(&capped, "redis", Level::INFO));
        assert!(shown(&capped, "redis_ops::cli::run", Level::TRACE));
        assert!(!shown(
            &capped,
            "amiquip::io_loop::handshake_state",
            Level::TRACE
        ));
        assert!(shown(&capped, "amiquip::io_loop", Level::TRACE));
    }
}
