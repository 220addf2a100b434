//! `rabbit-ops`: every RabbitMQ tutorial as one tool. See `rabbit-ops --help`.

use std::process::ExitCode;

use rabbit_ops::Error;
use rabbit_ops::cli::{Args, init_logging, run};

fn main() -> ExitCode {
    let args: Args = common::cli::parse(env!("CARGO_PKG_VERSION"));
    init_logging(args.verbose, args.quiet);
    match run(args, &mut std::io::stdout().lock()) {
        Err(Error::Usage(line)) => common::cli::usage_error(&line),
        result => common::exit::finish(result),
    }
}
