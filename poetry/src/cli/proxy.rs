//! poetry-proxy's command line.

use std::io::Write;
use std::time::Duration;

use argh::FromArgs;
use common::cli::{positive_secs, secs};
use common::exit::Failure;
use common::output::Out;

use crate::limits;
use crate::proxy::{self, Config};

/// Serve the poem of an upstream poetry server, fetched once and cached (the Twisted tutorial's
/// poetry proxy). Clients arriving during the first fetch share it; a failed fetch is not cached
/// (the next client tries again) and the clients waiting on it are closed without a poem.
/// Prints `Proxying <upstream> on <ip>:<port>.` first; stops on SIGINT or SIGTERM.
#[derive(FromArgs, Debug)]
#[argh(
    example = "The poetry server on port 9002 behind a proxy on port 8000; three clients, one upstream fetch:\n$ {command_name} 9002 --port 8000\n$ poetry-client 8000 8000 8000",
    example = "An upstream on another machine, a free port (shown in the first line), each fetch logged:\n$ {command_name} 192.0.2.7:9000 -v",
    note = "An upstream poem over --max-poem-size fails that fetch (its clients are closed without a poem; nothing is cached). Bounds: --max-connections 1 to 1000000, --max-poem-size 1 to 1073741824, seconds at most a year.\nExit codes: 0 after SIGINT/SIGTERM (even with stderr closed), 1 when it cannot listen or start, 2 for bad usage. --version prints the version. Guide: docs/poetry.md."
)]
pub struct Args {
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
    #[argh(
        option,
        default = "Duration::from_secs(10)",
        from_str_fn(positive_secs)
    )]
    timeout: Duration,
    /// the largest upstream poem accepted, in bytes, 1 to 1073741824 (default 16777216,
    /// 16 MiB)
    #[argh(option, default = "limits::DEFAULT_MAX_POEM_SIZE")]
    max_poem_size: usize,
    /// connections served at once, 1 to 1000000 (default 10000, fewer under a low open-file
    /// limit)
    #[argh(option)]
    max_connections: Option<usize>,
    /// seconds poems in progress get to finish after SIGINT/SIGTERM (default 5)
    #[argh(option, default = "Duration::from_secs(5)", from_str_fn(secs))]
    grace: Duration,
    /// more logs: -v info (each fetch), -vv debug (each client)
    #[argh(switch, short = 'v')]
    pub verbose: u8,
    /// errors only
    #[argh(switch, short = 'q')]
    pub quiet: bool,
}

/// Checks the arguments, then proxies the upstream until SIGINT or SIGTERM.
pub fn run(args: &Args, out: &mut Out<impl Write>) -> Result<(), Failure> {
    let max_connections = super::max_connections(args.max_connections)?;
    let max_poem_size = super::max_poem_size(args.max_poem_size)?;
    let upstream = common::parse_connect_addr_within(&args.upstream, args.timeout)?;
    let addr = common::addr::listen_addr(&args.iface, args.port)?;
    let mut config = Config::new(upstream);
    config.timeout = args.timeout;
    config.grace = args.grace;
    config.max_connections = max_connections;
    config.max_poem_size = max_poem_size;
    common::server::run_server(
        1,
        async || common::net::bind(addr),
        |local| format!("Proxying {upstream} on {local}."),
        |listener, shutdown| proxy::run(listener, config, shutdown),
        out,
    )
}
