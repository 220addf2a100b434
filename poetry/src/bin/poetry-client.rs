//! poetry-client: downloads poems from many poetry servers at once (Get Poetry Now!).

use std::process::ExitCode;

use common::output::Out;
use poetry::cli::client::{Args, run};

fn main() -> ExitCode {
    let args: Args = common::cli::parse(env!("CARGO_PKG_VERSION"));
    common::logging::init(args.verbose, args.quiet);
    match run(&args, &mut Out::stdout()) {
        Ok(done) => done.exit_code(),
        Err(e) => common::cli::finish(Err::<(), _>(e)),
    }
}
