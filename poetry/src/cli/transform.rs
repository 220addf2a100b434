//! poetry-transform's command line.

use std::io::Write;
use std::time::Duration;

use argh::FromArgs;
use common::cli::{positive_secs, secs};
use common::exit::Failure;
use common::output::Out;

use crate::transform::{self, Config};
use crate::{Error, limits};

/// Serve poem transformations (the Twisted tutorial's transformedpoetry.py). A request is one
/// netstring, `<len>:cummingsify.<poem>,`; the reply is `<len>:<poem in lowercase>,`, then the
/// connection closes. A request it cannot honour is logged and closed without a reply. Prints
/// `Serving transforms on <ip>:<port>.` first; stops on SIGINT or SIGTERM.
#[derive(FromArgs, Debug)]
#[argh(
    example = "The service on port 10000, then one request by hand:\n$ {command_name} --port 10000\n$ printf '27:cummingsify.HERE IS MY POEM,' | nc -q 1 127.0.0.1 10000\n15:here is my poem,",
    example = "Requests up to 1 MB, on every interface, on a free port (shown in the first line):\n$ {command_name} --iface 0.0.0.0 --max-length 1000000",
    note = "--max-length is the largest poem (request) served: a longer one is refused as soon as its length arrives. Bounds: --max-length 0 to 1073741824, --max-connections 1 to 1000000, seconds at most a year.\nExit codes: 0 after SIGINT/SIGTERM (even with stderr closed), 1 when it cannot listen or start, 2 for bad usage. --version prints the version. Guide: docs/poetry.md."
)]
pub struct Args {
    /// the port to listen on (default 0: a free port)
    #[argh(option, default = "0")]
    port: u16,
    /// the interface to listen on (default localhost)
    #[argh(option, default = "String::from(\"localhost\")")]
    iface: String,
    /// the longest request accepted, in bytes, at most 1073741824 (default 99999)
    #[argh(option, default = "99_999")]
    max_length: usize,
    /// seconds a client may stay silent (default 30)
    #[argh(
        option,
        default = "Duration::from_secs(30)",
        from_str_fn(positive_secs)
    )]
    timeout: Duration,
    /// connections served at once, 1 to 1000000 (default 10000, fewer under a low open-file
    /// limit)
    #[argh(option)]
    max_connections: Option<usize>,
    /// seconds requests in progress get to finish after SIGINT/SIGTERM (default 5)
    #[argh(option, default = "Duration::from_secs(5)", from_str_fn(secs))]
    grace: Duration,
    /// more logs: -v info, -vv debug (each request)
    #[argh(switch, short = 'v')]
    pub verbose: u8,
    /// errors only (rejected requests are warnings: -q hides them)
    #[argh(switch, short = 'q')]
    pub quiet: bool,
}

/// Checks the arguments, then serves transforms until SIGINT or SIGTERM.
pub fn run(args: &Args, out: &mut Out<impl Write>) -> Result<(), Failure> {
    let max_length = limits::check("max-length", args.max_length, 0, limits::MAX_POEM_SIZE)
        .map_err(Error::Usage)?;
    let max_connections = super::max_connections(args.max_connections)?;
    let addr = common::addr::listen_addr(&args.iface, args.port)?;
    let config = Config {
        max_length,
        timeout: args.timeout,
        max_connections,
        grace: args.grace,
    };
    common::server::run_server(
        1,
        async || common::net::bind(addr),
        |local| format!("Serving transforms on {local}."),
        |listener, shutdown| transform::run(listener, config, shutdown),
        out,
    )
}
