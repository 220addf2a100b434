//! `echo-server`: its arguments, their checks, and the run.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use argh::FromArgs;
use common::exit::Failure;
use common::output::Out;

use crate::Error;
use crate::server::{self, Config};

/// Echo server: writes back every byte each client sends, until SIGINT or SIGTERM.
/// The first line on stdout is `listening on <ip>:<port>`; a one-line summary goes to stderr
/// when it stops.
#[derive(FromArgs)]
#[argh(
    example = "Serve the notes' port 1234 on 127.0.0.1 (then run echo-client):\n$ {command_name}",
    example = "A free port, read from the first line; UDP instead of TCP:\n$ {command_name} --port 0\n$ {command_name} --udp --port 4321",
    note = "Bounds: --max-connections 1 to 1000000, --threads 1 to 1024, seconds at most a year.",
    note = "Exit codes: 0 after SIGINT/SIGTERM (a graceful stop), 1 when it cannot listen or start its threads, 2 for bad usage. --version prints the version. Guide: docs/echo.md."
)]
pub struct Args {
    /// port to listen on; 0 picks a free one (default 1234)
    #[argh(option, default = "1234")]
    port: u16,
    /// address to listen on (default 127.0.0.1)
    #[argh(option, default = "String::from(\"127.0.0.1\")")]
    iface: String,
    /// connections served at once; more wait in the kernel's listen queue (default 10000, at
    /// most 1000000)
    #[argh(option, default = "10_000")]
    max_connections: usize,
    /// close a connection that neither sent nor read anything for SECS seconds; 0 = never
    /// (default 300)
    #[argh(
        option,
        default = "Duration::from_secs(300)",
        from_str_fn(common::cli::secs)
    )]
    idle_timeout: Duration,
    /// after SIGINT/SIGTERM, let in-flight echoes finish for up to SECS seconds (default 5)
    #[argh(
        option,
        default = "Duration::from_secs(5)",
        from_str_fn(common::cli::secs)
    )]
    grace: Duration,
    /// echo UDP datagrams instead: each goes back to its sender
    #[argh(switch)]
    udp: bool,
    /// threads serving connections: 1 runs everything on one thread (default 1, at most 1024)
    #[argh(option, default = "1")]
    threads: usize,
    /// more logs on stderr (-v info, -vv debug)
    #[argh(switch, short = 'v')]
    pub verbose: u8,
    /// errors only on stderr
    #[argh(switch, short = 'q')]
    pub quiet: bool,
}

/// What to serve, checked.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen.
    pub addr: SocketAddr,
    /// UDP instead of TCP.
    pub udp: bool,
    /// Runtime threads, 1 to [`common::runtime::MAX_THREADS`].
    pub threads: usize,
    /// The TCP server's settings.
    pub config: Config,
}

impl TryFrom<Args> for Options {
    type Error = Error;

    fn try_from(args: Args) -> Result<Self, Error> {
        let addr = common::addr::listen_addr(&args.iface, args.port)?;
        if args.max_connections == 0 {
            return Err(Error::usage("--max-connections must be at least 1"));
        }
        if args.max_connections > server::MAX_CONNECTIONS {
            return Err(Error::usage(format!(
                "--max-connections must be at most {}",
                server::MAX_CONNECTIONS
            )));
        }
        Ok(Self {
            addr,
            udp: args.udp,
            threads: super::threads(args.threads)?,
            config: Config {
                max_connections: args.max_connections,
                idle_timeout: Some(args.idle_timeout).filter(|d| !d.is_zero()),
                grace: args.grace,
            },
        })
    }
}

/// Serves until SIGINT or SIGTERM ([`common::server::run_server`]): the first line,
/// `listening on <ip>:<port>` (` (udp)` after it with --udp), goes to `out`, the summary to
/// stderr. A closed stdout does not stop the server: its job is serving, not printing.
pub fn run(args: Args, out: &mut Out<impl Write>) -> Result<(), Failure> {
    let Options {
        addr,
        udp,
        threads,
        config,
    } = Options::try_from(args)?;
    if udp {
        return common::server::run_server(
            threads,
            async || server::bind_udp(addr).await,
            |local| format!("listening on {local} (udp)"),
            |socket, shutdown| async move {
                server::run_udp(socket, shutdown)
                    .await
                    .map(|s| s.summary(true))
            },
            out,
        );
    }
    // Room for every connection, plus a few descriptors for the process itself.
    super::fd_limit_for(
        config.max_connections as u64 + 16,
        format_args!(
            "fewer than --max-connections {} can be served",
            config.max_connections
        ),
    );
    common::server::run_server(
        threads,
        async || common::net::bind(addr),
        |local| format!("listening on {local}"),
        |listener, shutdown| async move {
            server::run(listener, config, shutdown)
                .await
                .map(|s| s.summary(false))
        },
        out,
    )
}
