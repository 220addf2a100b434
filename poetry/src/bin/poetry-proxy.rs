//! poetry-proxy: serves an upstream poetry server's poem, fetched once and cached.

use std::process::ExitCode;

use argh::FromArgs;
use poetry::proxy::{self, Config};
use poetry::{Error, cli};

/// Serve the poem of an upstream poetry server, fetched once and cached (the Twisted tutorial's
/// poetry proxy). Clients arriving during the first fetch share it; a failed fetch is not cached
/// (the next client tries again) and the clients waiting on it are closed without a poem.
/// Prints `Proxying <upstream> on <ip>:<port>.` first; stops on SIGINT or SIGTERM.
#[derive(FromArgs)]
#[argh(
    example = "The poetry server on port 9002 behind a proxy on port 8000; three clients, one upstream fetch:\n$ {command_name} 9002 --port 8000\n$ poetry-client 8000 8000 8000",
    example = "An upstream on another machine, a free port (shown in the first line), each fetch logged:\n$ {command_name} 192.0.2.7:9000 -v",
    note = "Exit codes: 0 after SIGINT/SIGTERM, 1 when it cannot listen, 2 for bad usage. --version prints the version. Guide: docs/poetry.md."
)]
struct Args {
    /// the upstream poetry server: PORT (meaning 127.0.0.1:PORT) or HOST:PORT
    #[argh(positional, arg_name = "UPSTREAM")]
    upstream: String,
    /// the port to listen on (default 0: a free port)
    #[argh(option, default = "0")]
    port: u16,
    /// the interface to listen on (default localhost)
    #[argh(option, default = "String::from(\"localhost\")")]
    iface: String,
    /// seconds the upstream server may stay silent (default 10)
    #[argh(option, default = "10.0")]
    timeout: f64,
    /// connections served at once (default 10000, fewer under a low open-file limit)
    #[argh(option)]
    max_connections: Option<usize>,
    /// seconds poems in progress get to finish after SIGINT/SIGTERM (default 5)
    #[argh(option, default = "5.0")]
    grace: f64,
    /// more logs: -v info (each fetch), -vv debug (each client)
    #[argh(switch, short = 'v')]
    verbose: u8,
    /// errors only
    #[argh(switch, short = 'q')]
    quiet: bool,
}

fn main() -> ExitCode {
    let args: Args = common::cli::parse(env!("CARGO_PKG_VERSION"));
    common::logging::init(args.verbose, args.quiet);
    common::exit::finish(serve(&args))
}

fn serve(args: &Args) -> Result<(), Error> {
    let upstream = common::parse_connect_addr(&args.upstream)?;
    let addr = common::addr::listen_addr(&args.iface, args.port)?;
    let mut config = Config::new(upstream);
    config.timeout = cli::timeout("--timeout", args.timeout)?;
    config.grace = cli::seconds("--grace", args.grace)?;
    config.max_connections = cli::max_connections(args.max_connections)?;
    cli::serve(
        "poetry-proxy",
        1,
        addr,
        |local| format!("Proxying {upstream} on {local}."),
        |listener, shutdown| proxy::run(listener, config, shutdown),
    )
}
