//! `rabbit-ops`: every RabbitMQ tutorial as one tool. See `rabbit-ops --help`.

use std::process::ExitCode;

use common::cli::{finish, program_name, usage_text};
use common::exit::{USAGE, say};
use common::output::Out;
use rabbit_ops::Error;
use rabbit_ops::cli::{Args, init_logging, run};

fn main() -> ExitCode {
    let args: Args = common::cli::parse(env!("CARGO_PKG_VERSION"));
    init_logging(args.verbose, args.quiet);
    rabbit_ops::cli::quiet_spawn_panics();
    match run(args, &mut Out::stdout()) {
        // `error: <what>` and the help line of the command that was misused.
        Err(Error::Usage { what, command }) => {
            say(usage_text(&what, &program_name(), command).trim_end());
            ExitCode::from(USAGE)
        }
        result => finish(result),
    }
}
