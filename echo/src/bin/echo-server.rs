//! `echo-server`: writes back every byte it receives (notes §1.5, Twisted's `Echo` protocol).
//! The arguments and the run live in [`echo::cli::server`].

use std::process::ExitCode;

use echo::cli::server::{Args, run};

fn main() -> ExitCode {
    let args: Args = common::cli::parse(env!("CARGO_PKG_VERSION"));
    common::logging::init(args.verbose, args.quiet);
    common::cli::finish(run(args, &mut common::output::Out::stdout()))
}
