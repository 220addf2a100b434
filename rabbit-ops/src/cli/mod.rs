//! The command line: the argh structs ([`args`]), their checks into the library's options
//! ([`validate`]), and [`run`], which does the command. The binary only parses, calls [`run`],
//! and maps the result to an exit code.

mod args;
mod run;
mod validate;

pub use args::*;
pub use run::{execute, run};
pub use validate::{
    Job, MAX_CONCURRENCY, MAX_CONNECTIONS, MAX_MESSAGES, MAX_SIZE, Options, Source, broker_urls,
    validate,
};

/// Logging as `common::logging::init` sets it up, except that amiquip's own log records (it
/// uses the `log` crate) stay quiet below `-vv` unless `RUST_LOG` asks for them: its warnings
/// repeat, in its terms, what our one error line already says.
pub fn init_logging(verbose: u8, quiet: bool) {
    let amiquip = match verbose {
        0 | 1 => "amiquip=off",
        2 => "amiquip=info",
        _ => "amiquip=trace",
    };
    common::logging::init_with(verbose, quiet, &[amiquip]);
}
