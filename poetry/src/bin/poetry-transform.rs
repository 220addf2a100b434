//! poetry-transform: the poetry transformation service (`cummingsify`).

use std::process::ExitCode;

use argh::FromArgs;
use poetry::transform::{self, Config};
use poetry::{Error, cli};

/// Serve poem transformations (the Twisted tutorial's transformedpoetry.py). A request is one
/// netstring, `<len>:cummingsify.<poem>,`; the reply is `<len>:<poem in lowercase>,`, then the
/// connection closes. A request it cannot honour is logged and closed without a reply. Prints
/// `Serving transforms on <ip>:<port>.` first; stops on SIGINT or SIGTERM.
#[derive(FromArgs)]
#[argh(
    example = "The service on port 10000, then one request by hand:\n$ {command_name} --port 10000\n$ printf '27:cummingsify.HERE IS MY POEM,' | nc -q 1 127.0.0.1 10000\n15:here is my poem,",
    example = "Requests up to 1 MB, on every interface, on a free port (shown in the first line):\n$ {command_name} --iface 0.0.0.0 --max-length 1000000",
    note = "Exit codes: 0 after SIGINT/SIGTERM, 1 when it cannot listen, 2 for bad usage. --version prints the version. Guide: docs/poetry.md."
)]
struct Args {
    /// the port to listen on (default 0: a free port)
    #[argh(option, default = "0")]
    port: u16,
    /// the interface to listen on (default localhost)
    #[argh(option, default = "String::from(\"localhost\")")]
    iface: String,
    /// the longest request accepted, in bytes (default 99999)
    #[argh(option, default = "99_999")]
    max_length: usize,
    /// seconds a client may stay silent (default 30)
    #[argh(option, default = "30.0")]
    timeout: f64,
    /// connections served at once (default 10000, fewer under a low open-file limit)
    #[argh(option)]
    max_connections: Option<usize>,
    /// seconds requests in progress get to finish after SIGINT/SIGTERM (default 5)
    #[argh(option, default = "5.0")]
    grace: f64,
    /// more logs: -v info, -vv debug (each request)
    #[argh(switch, short = 'v')]
    verbose: u8,
    /// errors only (rejected requests are warnings: -q hides them)
    #[argh(switch, short = 'q')]
    quiet: bool,
}

fn main() -> ExitCode {
    let args: Args = common::cli::parse(env!("CARGO_PKG_VERSION"));
    common::logging::init(args.verbose, args.quiet);
    common::exit::finish(serve(&args))
}

fn serve(args: &Args) -> Result<(), Error> {
    let addr = common::addr::listen_addr(&args.iface, args.port)?;
    let config = Config {
        max_length: args.max_length,
        timeout: cli::timeout("--timeout", args.timeout)?,
        max_connections: cli::max_connections(args.max_connections)?,
        grace: cli::seconds("--grace", args.grace)?,
    };
    cli::serve(
        "poetry-transform",
        1,
        addr,
        |local| format!("Serving transforms on {local}."),
        |listener, shutdown| transform::run(listener, config, shutdown),
    )
}
