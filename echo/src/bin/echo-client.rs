//! `echo-client`: sends `hello alex!` and prints `Server said: hello alex!` (notes §1.5).
//! The arguments and the run live in [`echo::cli::client`].

use std::process::ExitCode;

use echo::cli::client::{Args, run};

fn main() -> ExitCode {
    let args: Args = common::cli::parse(env!("CARGO_PKG_VERSION"));
    common::logging::init(args.verbose, args.quiet);
    common::cli::finish(run(args, &mut common::output::Out::stdout()))
}
