//! `redis-ops`: Redis from Rust (notes §2). The arguments, their checks and the commands live
//! in [`redis_ops::cli`].

use std::process::ExitCode;

use redis_ops::cli::{Args, run};

fn main() -> ExitCode {
    let args: Args = common::cli::parse(env!("CARGO_PKG_VERSION"));
    redis_ops::cli::init_logging(args.verbose, args.quiet);
    let mut out = common::output::Out::stdout();
    run(args, &mut out).unwrap_or_else(|e| common::cli::finish(Err(e)))
}
