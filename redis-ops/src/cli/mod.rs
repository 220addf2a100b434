//! The command line of `redis-ops`: [`args`] (what argh reads), [`validate`] (typed options,
//! bounds, URLs: before anything connects) and [`run`](mod@run) (the runtime, the command, what
//! is printed). The binary calls [`run()`] and maps the result to an exit code.

pub mod args;
pub mod run;
pub mod validate;

use std::io::Write;
use std::process::ExitCode;

use common::output::Out;

pub use args::Args;
pub use validate::Options;

use crate::error::Error;

/// Checks `args`, runs the command and prints on `out`. `Ok` carries the exit code (0, or 1
/// for a `get` of a missing key, already reported); an error is for
/// [`common::cli::finish`] (a closed `out` among them: exit 0, nothing printed).
pub fn run<W: Write>(args: Args, out: &mut Out<W>) -> Result<ExitCode, Error> {
    run::execute(Options::try_from(args)?, out)
}

/// The crates whose own log is kept at `info` at most, whatever the flags or `RUST_LOG` say:
/// their debug and trace lines carry connection details and replies (an AUTH command) that no
/// redaction of URLs can recognise as secrets.
pub const CAPPED: [&str; 2] = ["redis", "deadpool_redis"];

/// Logging as every tool sets it up ([`common::logging::init_with`]: every line redacted,
/// whoever logged it), with the redis crate's own log capped ([`CAPPED`]).
pub fn init_logging(verbose: u8, quiet: bool) {
    common::logging::init_with(
        verbose,
        quiet,
        &common::logging::Quiet {
            defaults: &[],
            capped: &CAPPED,
        },
    );
}
