//! poetry-server: serves one poem file to every client that connects, then closes.

use std::process::ExitCode;

use common::output::Out;
use poetry::cli::server::{Args, run};

fn main() -> ExitCode {
    let args: Args = common::cli::parse(env!("CARGO_PKG_VERSION"));
    common::logging::init(args.verbose, args.quiet);
    common::cli::finish(run(&args, &mut Out::stdout()))
}
