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
    init_with(verbose, quiet, &[]);
}

/// Like [`init`], with extra filter directives (`"amiquip=off"`) that apply only when
/// `RUST_LOG` is not set: a crate can quiet a chatty dependency at the default levels.
pub fn init_with(verbose: u8, quiet: bool, extra: &[&str]) {
    let mut filter = filter(verbose, quiet);
    if std::env::var_os("RUST_LOG").is_none() {
        for directive in extra {
            if let Ok(d) = directive.parse() {
                filter = filter.add_directive(d);
            }
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        // A log line stderr cannot take is dropped without a word: tracing-subscriber's own
        // report of that failure is an `eprintln!`, which panics when stderr is a closed pipe
        // (a server whose stderr reader went away would exit 101 instead of serving on).
        .log_internal_errors(false)
        .try_init();
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
}
