//! The command line: the argh structs (`args`), their checks into the library's options
//! ([`validate`]), and [`run`], which does the command. The binary only parses, calls [`run`],
//! and maps the result to an exit code.

mod args;
mod beyond;
pub mod offset_tracking_receive;
pub mod offset_tracking_send;
mod run;
pub mod stream_ping;
pub mod stream_receive;
pub mod stream_send;
pub mod streams;
mod validate;

pub use args::*;
pub use run::{execute, run};
pub use validate::{
    Job, MAX_CONCURRENCY, MAX_CONNECTIONS, MAX_MESSAGES, MAX_SIZE, Options, Source, broker_urls,
    validate,
};

/// The log targets that print credentials, shown at `info` at most at every verbosity,
/// `RUST_LOG` included: amiquip's handshake logs `connection.start-ok` at debug level, and its
/// SASL PLAIN response is `"\0user\0password"`.
pub const SECRET_TARGETS: &[&str] = &["amiquip::io_loop::handshake_state"];

/// Logging as every tool sets it up ([`common::logging::init_with`]: every line redacted,
/// whoever logged it), except that amiquip's own log records (it uses the `log` crate) stay
/// quiet below `-vv` unless `RUST_LOG` asks for them: its warnings repeat, in its terms, what our
/// one error line already says. Whatever the flags or `RUST_LOG`, the [`SECRET_TARGETS`] never
/// log below info.
pub fn init_logging(verbose: u8, quiet: bool) {
    let amiquip = match verbose {
        0 | 1 => "amiquip=off",
        2 => "amiquip=info",
        _ => "amiquip=trace",
    };
    common::logging::init_with(
        verbose,
        quiet,
        &common::logging::Quiet {
            defaults: &[amiquip],
            capped: SECRET_TARGETS,
        },
    );
}

/// A library's `thread::spawn` that the system refuses panics; where we catch that panic and
/// report it as one error line (`bench`), its own message must not be printed too.
pub fn quiet_spawn_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if !text.starts_with(crate::bench::SPAWN_PANIC) {
            default(info);
        }
    }));
}
