//! poetry-proxy: serves an upstream poetry server's poem, fetched once and cached.

use std::process::ExitCode;

use common::output::Out;
use poetry::cli::proxy::{Args, run};

fn main() -> ExitCode {
    let args: Args = common::cli::parse(env!("CARGO_PKG_VERSION"));
    common::logging::init(args.verbose, args.quiet);
    common::cli::finish(run(&args, &mut Out::stdout()))
}
