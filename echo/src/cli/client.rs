//! `echo-client`: its arguments, their checks, and the run.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use argh::FromArgs;
use common::exit::Failure;
use common::output::Out;

use crate::{Error, client};

/// Echo client: sends a message, waits until all of it has come back, prints
/// `Server said: <message>`. With --stdin, streams stdin to the server and the echoes to stdout
/// like nc. Exits 1 when the server is unreachable, too slow, or sends back something else.
#[derive(FromArgs)]
#[argh(
    example = "Send `hello alex!` to 127.0.0.1:1234, print `Server said: hello alex!`:\n$ {command_name}",
    example = "Another message to port 4000; stdin streamed like nc:\n$ {command_name} 4000 --message 'hi there'\n$ printf 'a\\nb\\n' | {command_name} --stdin 4000",
    note = "Exit codes: 0 echo complete, 1 unreachable/timeout/different echo, 2 bad usage. --version prints the version. Guide: docs/echo.md."
)]
pub struct Args {
    /// the server: PORT or HOST:PORT (default 127.0.0.1:1234)
    #[argh(positional)]
    addr: Option<String>,
    /// the message to send (default "hello alex!")
    #[argh(option)]
    message: Option<String>,
    /// send stdin instead and print what comes back, until stdin ends and the server closes
    #[argh(switch)]
    stdin: bool,
    /// seconds allowed for the whole echo, connecting included; with --stdin, to connect
    /// and for the longest silence once stdin has ended (default 10)
    #[argh(
        option,
        default = "Duration::from_secs(10)",
        from_str_fn(common::cli::positive_secs)
    )]
    timeout: Duration,
    /// use UDP: the message is one datagram (with --stdin, each line is one)
    #[argh(switch)]
    udp: bool,
    /// more logs on stderr (-v info, -vv debug)
    #[argh(switch, short = 'v')]
    pub verbose: u8,
    /// errors only on stderr
    #[argh(switch, short = 'q')]
    pub quiet: bool,
}

/// What to do, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Send `message`, check its echo, print `Server said: <message>`.
    Echo {
        /// The text sent.
        message: String,
    },
    /// Stream stdin to the server and the echoes to stdout (`--stdin`).
    Relay,
}

/// The command line, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The server.
    pub addr: SocketAddr,
    /// What to do.
    pub mode: Mode,
    /// UDP instead of TCP.
    pub udp: bool,
    /// The bound of the exchange (see `--timeout`).
    pub timeout: Duration,
}

impl TryFrom<Args> for Options {
    type Error = Error;

    fn try_from(args: Args) -> Result<Self, Error> {
        let addr =
            common::addr::parse_connect_addr(args.addr.as_deref().unwrap_or(super::DEFAULT_ADDR))?;
        let mode = match (args.stdin, args.message) {
            (true, Some(_)) => return Err(Error::usage("give --message or --stdin, not both")),
            (true, None) => Mode::Relay,
            (false, message) => Mode::Echo {
                message: message.unwrap_or_else(|| "hello alex!".to_owned()),
            },
        };
        Ok(Self {
            addr,
            mode,
            udp: args.udp,
            timeout: args.timeout,
        })
    }
}

/// Talks to the server as `args` say; what comes back goes to `out`.
pub fn run(args: Args, out: &mut Out<impl Write>) -> Result<(), Failure> {
    let options = Options::try_from(args)?;
    let runtime = common::runtime::start(1)?;
    let result = runtime.block_on(talk(&options, out));
    // A read of a terminal's stdin may still be blocked: do not wait for it.
    runtime.shutdown_background();
    if let Err(Error::Connect { .. }) = &result {
        // The notes' clientConnectionFailed; the cause follows on stderr. A closed stdout does
        // not hide the failure.
        let _ = out.line(format_args!("Connection failed - goodbye!"));
    }
    Ok(result?)
}

async fn talk(options: &Options, out: &mut Out<impl Write>) -> Result<(), Error> {
    let Options {
        addr, udp, timeout, ..
    } = *options;
    match &options.mode {
        Mode::Relay if udp => {
            let input = tokio::io::BufReader::new(tokio::io::stdin());
            client::relay_udp(addr, input, out, timeout).await?;
        }
        Mode::Relay => {
            client::relay(addr, tokio::io::stdin(), out, timeout).await?;
        }
        Mode::Echo { message } => {
            if udp {
                client::echo_once_udp(addr, message.as_bytes(), timeout).await?;
            } else {
                client::echo_once(addr, message.as_bytes(), timeout).await?;
            }
            // The echo is byte for byte the message (checked), so print the message.
            out.line(format_args!("Server said: {message}"))?;
        }
    }
    Ok(())
}
