//! `echo-client`: sends `hello alex!` and prints `Server said: hello alex!` (notes §1.5).

use std::process::ExitCode;
use std::time::Duration;

use argh::FromArgs;
use echo::{Error, client};

/// Echo client: sends a message, waits until all of it has come back, prints
/// `Server said: <message>`. With --stdin, streams stdin to the server and the echoes to stdout
/// like nc. Exits 1 when the server is unreachable, too slow, or sends back something else.
#[derive(FromArgs)]
#[argh(
    example = "Send `hello alex!` to 127.0.0.1:1234, print `Server said: hello alex!`:\n$ {command_name}",
    example = "Another message to port 4000; stdin streamed like nc:\n$ {command_name} 4000 --message 'hi there'\n$ printf 'a\\nb\\n' | {command_name} --stdin 4000",
    note = "Exit codes: 0 echo complete, 1 unreachable/timeout/different echo, 2 bad usage. --version prints the version. Guide: docs/echo.md."
)]
struct Args {
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
        from_str_fn(common::cli::secs)
    )]
    timeout: Duration,
    /// use UDP: the message is one datagram (with --stdin, each line is one)
    #[argh(switch)]
    udp: bool,
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
    let result = talk(args);
    if let Err(Error::Connect { .. }) = &result {
        // The notes' clientConnectionFailed; the cause follows on stderr.
        println!("Connection failed - goodbye!");
    }
    common::exit::finish(result)
}

fn talk(args: Args) -> Result<(), Error> {
    let addr = common::addr::parse_connect_addr(args.addr.as_deref().unwrap_or("127.0.0.1:1234"))?;
    if args.timeout.is_zero() {
        return Err(Error::Usage("error: --timeout must be more than 0".into()));
    }
    if args.stdin && args.message.is_some() {
        return Err(Error::Usage(
            "error: give --message or --stdin, not both".into(),
        ));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the runtime", e))?;
    let result = runtime.block_on(async {
        if args.stdin {
            let input = tokio::io::stdin();
            let output = tokio::io::stdout();
            if args.udp {
                client::relay_udp(addr, tokio::io::BufReader::new(input), output, args.timeout)
                    .await?;
            } else {
                client::relay(addr, input, output, args.timeout).await?;
            }
            return Ok(());
        }
        let message = args.message.unwrap_or_else(|| "hello alex!".to_owned());
        if args.udp {
            client::echo_once_udp(addr, message.as_bytes(), args.timeout).await?;
        } else {
            client::echo_once(addr, message.as_bytes(), args.timeout).await?;
        }
        // The echo is byte for byte the message (checked), so print the message.
        println!("Server said: {message}");
        Ok(())
    });
    // A read of a terminal's stdin may still be blocked: do not wait for it.
    runtime.shutdown_background();
    result
}
