//! The command line of `redis-ops`: [`args`] (what argh reads), [`validate`] (typed options,
//! bounds, URLs: before anything connects) and [`run`](mod@run) (the runtime, the command, what
//! is printed). The binary calls [`run()`] and maps the result to an exit code.

pub mod args;
pub mod logging;
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
/// [`common::exit::finish`] (a closed `out` among them: exit 0, nothing printed).
pub fn run<W: Write>(args: Args, out: &mut Out<W>) -> Result<ExitCode, Error> {
    run::execute(Options::try_from(args)?, out)
}
