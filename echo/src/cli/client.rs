//! `echo-client`: its arguments, their checks, and the run: one echo, stdin relayed like `nc`,
//! or the readiness check of one or several servers (`--wait`, `--json`, several addresses).

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use argh::FromArgs;
use common::exit::Failure;
use common::output::Out;
use common::probe::{Outcome, Probe, Refusal};

use crate::{Error, check, client};

/// Echo client: sends a message, waits until all of it has come back, prints
/// `Server said: <message>`. With --stdin, streams stdin to the server and the echoes to stdout
/// like nc. Exits 1 when the server is unreachable, too slow, or sends back something else.
/// With --wait, --json or several addresses, checks instead that each server echoes a random
/// line (all at once) and prints one line per server that passed:
/// `ok 127.0.0.1:1234: echo server, round trip 0.1 ms`.
#[derive(FromArgs)]
#[argh(
    example = "Send `hello alex!` to 127.0.0.1:1234, print `Server said: hello alex!`:\n$ {command_name}",
    example = "Another message to port 4000; stdin streamed like nc:\n$ {command_name} 4000 --message 'hi there'\n$ printf 'a\\nb\\n' | {command_name} --stdin 4000",
    example = "In CI: wait up to 30 s until two echo servers answer; the same as JSON lines:\n$ {command_name} --wait 30 4000 4001\n$ {command_name} --wait 30 --json 4000 4001",
    note = "Bounds: --message at most 131071 bytes (65507 with --udp, one datagram; so is each line of --stdin --udp), at most 1000 addresses, seconds at most a year. The server is never waited for longer than --timeout without progress.",
    note = "Exit codes: 0 echo complete (every server checked passed), 1 unreachable/timeout/different echo (any server not ready), 2 bad usage, 130 interrupted by SIGINT/SIGTERM (after saying what was sent and echoed). --version prints the version. Guide: docs/echo.md."
)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each bool is a switch of the command line"
)]
pub struct Args {
    /// the server: PORT or HOST:PORT (default 127.0.0.1:1234); several (at most 1000) are
    /// checked at once
    #[argh(positional)]
    addr: Vec<String>,
    /// the message to send (default "hello alex!", at most 131071 bytes, 65507 with --udp)
    #[argh(option)]
    message: Option<String>,
    /// send stdin instead and print what comes back, until stdin ends and the server closes
    #[argh(switch)]
    stdin: bool,
    /// seconds allowed for the whole echo, connecting included; with --stdin, to connect
    /// and for the longest silence once stdin has ended; with --wait, for each try (default 10)
    #[argh(
        option,
        default = "Duration::from_secs(10)",
        from_str_fn(common::cli::positive_secs)
    )]
    timeout: Duration,
    /// use UDP: the message is one datagram (with --stdin, each line is one)
    #[argh(switch)]
    udp: bool,
    /// check readiness: try again until an echo round trip passes or SECS seconds have gone
    #[argh(option, from_str_fn(common::cli::secs))]
    wait: Option<Duration>,
    /// check readiness, printing one JSON object per server per line (target, ok, server,
    /// round_trip_ms, attempts, waited_s, error)
    #[argh(switch)]
    json: bool,
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
        /// The server.
        addr: SocketAddr,
        /// The text sent.
        message: String,
        /// One datagram instead of a TCP connection.
        udp: bool,
    },
    /// Stream stdin to the server and the echoes to stdout (`--stdin`).
    Relay {
        /// The server.
        addr: SocketAddr,
        /// One datagram per line instead of a TCP connection.
        udp: bool,
    },
    /// Check that every server echoes (`--wait`, `--json`, several addresses).
    Check {
        /// The servers.
        addrs: Vec<SocketAddr>,
        /// How long to keep trying (`--wait`); `None`: one try.
        wait: Option<Duration>,
        /// One JSON object per server instead of the `ok` lines.
        json: bool,
    },
}

/// The command line, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// What to do.
    pub mode: Mode,
    /// The bound of an exchange (see `--timeout`).
    pub timeout: Duration,
}

impl TryFrom<Args> for Options {
    type Error = Error;

    fn try_from(args: Args) -> Result<Self, Error> {
        if args.addr.len() > check::MAX_TARGETS {
            return Err(Error::usage(format!(
                "at most {} addresses can be checked at once, not {}",
                check::MAX_TARGETS,
                args.addr.len()
            )));
        }
        if let Some(message) = &args.message {
            let (max, with) = if args.udp {
                (client::MAX_DATAGRAM, " with --udp")
            } else {
                (client::MAX_MESSAGE, "")
            };
            if message.len() > max {
                return Err(Error::usage(format!(
                    "--message must be at most {max} bytes{with}, not {}",
                    message.len()
                )));
            }
        }
        let mut addrs = args
            .addr
            .iter()
            .map(|a| common::addr::parse_connect_addr_within(a, args.timeout))
            .collect::<Result<Vec<_>, _>>()?;
        if addrs.is_empty() {
            addrs.push(common::addr::parse_connect_addr(super::DEFAULT_ADDR)?);
        }
        let mode = if args.wait.is_some() || args.json || addrs.len() > 1 {
            let not_with_check = [
                (args.stdin, "--stdin"),
                (args.message.is_some(), "--message"),
                (args.udp, "--udp"),
            ];
            if let Some((_, option)) = not_with_check.iter().find(|(given, _)| *given) {
                return Err(Error::usage(format!(
                    "{option} cannot be used with --wait, --json or several addresses \
                     (the readiness check sends a line of its own over TCP)"
                )));
            }
            Mode::Check {
                addrs,
                wait: args.wait,
                json: args.json,
            }
        } else {
            let (addr, udp) = (addrs[0], args.udp);
            match (args.stdin, args.message) {
                (true, Some(_)) => return Err(Error::usage("give --message or --stdin, not both")),
                (true, None) => Mode::Relay { addr, udp },
                (false, message) => Mode::Echo {
                    addr,
                    message: message.unwrap_or_else(|| "hello alex!".to_owned()),
                    udp,
                },
            }
        };
        Ok(Self {
            mode,
            timeout: args.timeout,
        })
    }
}

/// Talks to the server(s) as `args` say; what comes back goes to `out`.
pub fn run(args: Args, out: &mut Out<impl Write>) -> Result<(), Failure> {
    let Options { mode, timeout } = Options::try_from(args)?;
    let runtime = super::runtime(1)?;
    if let Mode::Check { addrs, wait, json } = &mode {
        // One connection per server at once.
        super::fd_limit_for(
            addrs.len() as u64 + 16,
            format_args!("fewer than {} servers can be checked at once", addrs.len()),
        );
        let probe = Probe {
            wait: *wait,
            timeout,
        };
        let outcomes = runtime.block_on(check_all(addrs, probe))?;
        return common::probe::report(&outcomes, *json, out);
    }
    let result = runtime.block_on(talk(&mode, timeout, out));
    // A read of a terminal's stdin may still be blocked: do not wait for it.
    runtime.shutdown_background();
    if let Err(Error::Connect { .. }) = &result {
        // The notes' clientConnectionFailed; the cause follows on stderr. A closed stdout does
        // not hide the failure.
        let _ = out.line(format_args!("Connection failed - goodbye!"));
    }
    Ok(result?)
}

/// One echo or the relay, until SIGINT or SIGTERM (exit 130, saying what was done).
async fn talk(mode: &Mode, timeout: Duration, out: &mut Out<impl Write>) -> Result<(), Error> {
    let stop = common::shutdown::install()
        .map_err(|e| Error::io("cannot install the signal handlers", e))?;
    match mode {
        &Mode::Relay { addr, udp } => {
            let input = tokio::io::BufReader::new(tokio::io::stdin());
            client::relay(addr, udp, input, out, timeout, stop).await?;
        }
        Mode::Echo { addr, message, udp } => {
            let echo = async {
                if *udp {
                    client::echo_once_udp(*addr, message.as_bytes(), timeout).await
                } else {
                    client::echo_once(*addr, message.as_bytes(), timeout).await
                }
            };
            crate::or_signal(echo, stop).await.map_err(|signal| {
                Error::interrupted(signal, format!("the echo from {addr} had not come back"))
            })??;
            // The echo is byte for byte the message (checked), so print the message.
            out.line(format_args!("Server said: {message}"))?;
        }
        Mode::Check { .. } => unreachable!("checks are run by `check_all`"),
    }
    Ok(())
}

/// Checks every server at once, each until it passes or `probe.wait` runs out; SIGINT or
/// SIGTERM ends the waiting.
async fn check_all(addrs: &[SocketAddr], probe: Probe) -> Result<Vec<Outcome>, Error> {
    let stop = common::shutdown::install()
        .map_err(|e| Error::io("cannot install the signal handlers", e))?;
    let targets: Vec<String> = addrs.iter().map(ToString::to_string).collect();
    let attempt = |target: String| async move {
        match target.parse() {
            Ok(addr) => check::check(addr).await,
            Err(_) => Err(Refusal::failed("not an address")),
        }
    };
    Ok(common::probe::check_all(&targets, probe, attempt, stop).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(args: &[&str]) -> Result<Options, Error> {
        let args = Args::from_args(&["echo-client"], args).expect("arguments argh takes");
        Options::try_from(args)
    }

    #[test]
    fn one_address_without_wait_or_json_is_the_echo_of_the_notes() {
        let o = options(&[]).unwrap();
        assert_eq!(
            o.mode,
            Mode::Echo {
                addr: "127.0.0.1:1234".parse().unwrap(),
                message: "hello alex!".into(),
                udp: false
            }
        );
        assert_eq!(o.timeout, Duration::from_secs(10));
    }

    #[test]
    fn wait_json_or_several_addresses_check_readiness() {
        let check = |args: &[&str]| match options(args).unwrap().mode {
            Mode::Check { addrs, wait, json } => (addrs.len(), wait, json),
            other => panic!("{args:?}: {other:?}"),
        };
        assert_eq!(
            check(&["--wait", "30"]),
            (1, Some(Duration::from_secs(30)), false)
        );
        assert_eq!(check(&["--json", "4000"]), (1, None, true));
        assert_eq!(check(&["4000", "4001", "[::1]:4002"]), (3, None, false));
        for (args, option) in [
            (&["--wait", "1", "--stdin"][..], "--stdin"),
            (&["--json", "--message", "x"][..], "--message"),
            (&["4000", "4001", "--udp"][..], "--udp"),
        ] {
            let e = options(args).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{args:?}");
            assert!(e.to_string().starts_with(option), "{e}");
        }
    }

    #[test]
    fn messages_and_addresses_are_bounded() {
        let at_most = |len: usize, udp: bool| {
            let message = "x".repeat(len);
            let mut args = vec!["--message", &message];
            if udp {
                args.push("--udp");
            }
            options(&args).map(drop).map_err(|e| e.to_string())
        };
        assert_eq!(at_most(131_071, false), Ok(()));
        assert_eq!(
            at_most(131_072, false),
            Err("--message must be at most 131071 bytes, not 131072".to_owned())
        );
        assert_eq!(at_most(65_507, true), Ok(()));
        assert_eq!(
            at_most(65_508, true),
            Err("--message must be at most 65507 bytes with --udp, not 65508".to_owned())
        );
        let ports: Vec<String> = (1..=1001).map(|p| p.to_string()).collect();
        let ports: Vec<&str> = ports.iter().map(String::as_str).collect();
        assert!(options(&ports[..1000]).is_ok());
        assert_eq!(
            options(&ports).unwrap_err().to_string(),
            "at most 1000 addresses can be checked at once, not 1001"
        );
    }
}
