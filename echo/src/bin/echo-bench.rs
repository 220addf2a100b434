//! `echo-bench`: a closed-loop ping-pong load generator for echo servers.
//! The arguments and the run live in [`echo::cli::bench`].

use std::process::ExitCode;

use echo::cli::bench::{Args, run};

fn main() -> ExitCode {
    let args: Args = common::cli::parse(env!("CARGO_PKG_VERSION"));
    common::logging::init(args.verbose, args.quiet);
    common::cli::finish(run(args, &mut common::output::Out::stdout()))
}
