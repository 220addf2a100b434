//! `echo-server`: writes back every byte it receives (notes §1.5, Twisted's `Echo` protocol).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use argh::FromArgs;
use echo::Error;
use echo::server::{self, Config};

/// Echo server: writes back every byte each client sends, until SIGINT or SIGTERM.
/// The first line on stdout is `listening on <ip>:<port>`; a one-line summary goes to stderr
/// when it stops.
#[derive(FromArgs)]
#[argh(
    example = "Serve the notes' port 1234 on 127.0.0.1 (then run echo-client):\n$ {command_name}",
    example = "A free port, read from the first line; UDP instead of TCP:\n$ {command_name} --port 0\n$ {command_name} --udp --port 4321",
    note = "Exit codes: 0 after SIGINT/SIGTERM, 1 when it cannot listen, 2 for bad usage. --version prints the version. Guide: docs/echo.md."
)]
struct Args {
    /// port to listen on; 0 picks a free one (default 1234)
    #[argh(option, default = "1234")]
    port: u16,
    /// address to listen on (default 127.0.0.1)
    #[argh(option, default = "String::from(\"127.0.0.1\")")]
    iface: String,
    /// connections served at once; more wait in the kernel's listen queue (default 10000)
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
    /// threads serving connections: 1 runs everything on one thread (default 1)
    #[argh(option, default = "1")]
    threads: usize,
    /// more logs on stderr (-v info, -vv debug)
    #[argh(switch, short = 'v')]
    verbose: u8,
    /// errors only on stderr
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
    if args.max_connections == 0 {
        return Err(Error::Usage(
            "error: --max-connections must be at least 1".into(),
        ));
    }
    if args.threads == 0 {
        return Err(Error::Usage("error: --threads must be at least 1".into()));
    }
    if !args.udp {
        // Room for every connection, plus a few descriptors for the process itself.
        let limit = common::limits::raise_fd_limit();
        if limit < args.max_connections as u64 + 16 {
            tracing::warn!(
                "the open-file limit is {limit}: fewer than --max-connections {} can be served",
                args.max_connections
            );
        }
    }
    let runtime = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    }
    .map_err(|e| Error::io("cannot start the runtime", e))?;

    runtime.block_on(async {
        let shutdown = common::shutdown::install()
            .map_err(|e| Error::io("cannot install the signal handlers", e))?;
        let stats = if args.udp {
            let socket = server::bind_udp(addr).await?;
            announce(socket.local_addr(), " (udp)")?;
            server::run_udp(socket, shutdown).await?
        } else {
            let listener = server::bind(addr)?;
            announce(listener.local_addr(), "")?;
            let config = Config {
                max_connections: args.max_connections,
                idle_timeout: Some(args.idle_timeout).filter(|d| !d.is_zero()),
                grace: args.grace,
            };
            server::run(listener, config, shutdown).await?
        };
        eprintln!("{}", stats.summary(args.udp));
        Ok(())
    })
}

/// The first line on stdout, flushed at once so a script can read the port.
fn announce(addr: std::io::Result<std::net::SocketAddr>, suffix: &str) -> Result<(), Error> {
    let addr = addr.map_err(|e| Error::io("cannot read the address listened on", e))?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {addr}{suffix}");
    let _ = out.flush();
    Ok(())
}
