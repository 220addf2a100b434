//! poetry-client's command line: the downloads run on a thread of their own while this one
//! prints, so that a slow reader of stdout never holds back a download in progress, and a closed
//! stdout ends the program at once, quietly. A poem holds its place among the `--concurrency`
//! ones until it is printed: a slow reader delays the start of new downloads instead of letting
//! the poems pile up in memory.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use argh::FromArgs;
use common::cli::positive_secs;
use common::exit::{FAILURE, INTERRUPTED, say};
use common::output::{Closed, Out, PrintError};
use common::probe::Outcome;
use common::shutdown::Signal;
use tokio_util::sync::CancellationToken;

use super::console::Console;
use crate::client::check::Checks;
use crate::client::{Options, Settled, Summary, download_all};
use crate::{Error, limits};

/// Download a poem from every address at once and print them on stdout, in the addresses'
/// order, nothing else (the Twisted tutorial's Get Poetry Now! client). A line per download and
/// a final `Got N poems in T` go to stderr. Only a server's clean close completes a poem: a
/// reset, a timeout, an empty poem or one over --max-poem-size is a failure. Exit 0 when every
/// download worked, 1 when any failed (the others are still printed), 2 for a bad address, 130
/// after SIGINT/SIGTERM (the poems already whole are printed, then
/// `error: interrupted (SIGINT) with N of M downloads unfinished`).
#[derive(FromArgs, Debug)]
#[argh(
    example = "Three downloads at once from ports 9000-9002, the poems into a file:\n$ {command_name} 9000 9001 9002 > poems.txt",
    example = "Lowercased by the poetry-transform service on port 10000:\n$ {command_name} --transform 10000 9000",
    example = "In CI, once the servers are up (at most 30 s), one JSON line per server:\n$ {command_name} --wait 30 --json 9000 9001",
    note = "--wait SECS tries a server that is not ready yet (nothing listening, a close or a reset before any byte, silence for --timeout) again until SECS have gone, then prints the poems as usual; a poem cut short is a failure at once. A server never ready ends with `error: <addr> not ready after <SECS> s: <why>` (exit 1; 130 when SIGINT/SIGTERM stops the waiting).\n--json prints one object per address instead of the poems: target, ok, server, round_trip_ms, attempts, waited_s, error.\nBounds: at most 100000 addresses, --concurrency 1 to 1000000, --max-poem-size 1 to 1073741824 bytes, seconds at most a year.\n--version prints the version. Guide: docs/poetry.md."
)]
pub struct Args {
    /// the poetry servers: PORT (meaning 127.0.0.1:PORT) or HOST:PORT
    #[argh(positional, arg_name = "ADDR")]
    addresses: Vec<String>,
    /// give up on a server that sends nothing for this many seconds (default 10)
    #[argh(
        option,
        default = "Duration::from_secs(10)",
        from_str_fn(positive_secs)
    )]
    timeout: Duration,
    /// downloads in progress at once, 1 to 1000000 (default 1000; fewer under a low open-file
    /// limit)
    #[argh(option)]
    concurrency: Option<usize>,
    /// the largest poem accepted, in bytes, 1 to 1073741824 (default 16777216, 16 MiB): a
    /// server that sends more fails that download
    #[argh(option, default = "limits::DEFAULT_MAX_POEM_SIZE")]
    max_poem_size: usize,
    /// cummingsify every poem through the poetry-transform service at this address (when that
    /// fails, the original poem is kept)
    #[argh(option)]
    transform: Option<String>,
    /// try a server that is not ready yet again, until this many seconds have gone since its
    /// download began
    #[argh(option, from_str_fn(positive_secs))]
    wait: Option<Duration>,
    /// print one JSON object per address (the check's outcome) instead of the poems
    #[argh(switch)]
    json: bool,
    /// more logs: -v info, -vv debug (each try, with --wait)
    #[argh(switch, short = 'v')]
    pub verbose: u8,
    /// errors only
    #[argh(switch, short = 'q')]
    pub quiet: bool,
}

/// How the downloads ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// Every download worked (exit 0).
    AllGot,
    /// Some failed (exit 1); the others were printed.
    SomeFailed,
    /// SIGINT or SIGTERM stopped downloads before they were over, or the waiting of `--wait`
    /// (exit 130).
    Interrupted,
}

impl Done {
    /// The exit code.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Done::AllGot => ExitCode::SUCCESS,
            Done::SomeFailed => ExitCode::from(FAILURE),
            Done::Interrupted => ExitCode::from(INTERRUPTED),
        }
    }
}

/// The checked command line.
struct Job {
    addrs: Vec<SocketAddr>,
    options: Options,
    json: bool,
}

fn validate(args: &Args) -> Result<Job, Error> {
    if args.addresses.is_empty() {
        return Err(Error::Usage(
            "give at least one address to download from, [host:]port".into(),
        ));
    }
    // The bounds first: nothing is resolved or allocated for a command line that asks too much.
    let concurrency = args
        .concurrency
        .map(|n| limits::check("concurrency", n, 1, limits::MAX_CONNECTIONS))
        .transpose()
        .map_err(Error::Usage)?;
    let max_poem_size = limits::check(
        "max-poem-size",
        args.max_poem_size,
        1,
        limits::MAX_POEM_SIZE,
    )
    .map_err(Error::Usage)?;
    if args.addresses.len() > limits::MAX_ADDRESSES {
        return Err(Error::Usage(format!(
            "at most {} addresses, not {}",
            limits::MAX_ADDRESSES,
            args.addresses.len()
        )));
    }
    // The same address repeated is parsed (and maybe resolved) once.
    let mut parsed: HashMap<&str, SocketAddr> = HashMap::new();
    let mut addrs = Vec::with_capacity(args.addresses.len());
    for a in &args.addresses {
        let addr = if let Some(addr) = parsed.get(a.as_str()) {
            *addr
        } else {
            let addr = common::parse_connect_addr_within(a, args.timeout)?;
            parsed.insert(a, addr);
            addr
        };
        addrs.push(addr);
    }
    let transform = args
        .transform
        .as_deref()
        .map(|a| common::parse_connect_addr_within(a, args.timeout))
        .transpose()?;
    if args.json && transform.is_some() {
        return Err(Error::Usage(
            "--transform has no use with --json, which prints no poems".into(),
        ));
    }
    let fd_limit = limits::raise_fd_limit();
    let concurrency = match concurrency {
        Some(n) if n > limits::max_sockets(fd_limit) => {
            let max = limits::max_sockets(fd_limit);
            tracing::warn!(
                "--concurrency {n} is over what the open-file limit ({fd_limit}) allows: using {max}"
            );
            max
        }
        Some(n) => n,
        None => limits::default_concurrency(fd_limit),
    };
    let checks = (args.wait.is_some() || args.json).then_some(Checks { wait: args.wait });
    Ok(Job {
        addrs,
        options: Options {
            timeout: args.timeout,
            max_poem_size,
            concurrency,
            transform,
            checks,
            stop: CancellationToken::new(),
        },
        json: args.json,
    })
}

/// Downloads everything and prints it on `out`: the poems, or with `--json` the checks.
/// SIGINT or SIGTERM stops the downloads in progress; the poems already whole are printed all
/// the same, in order.
pub fn run(args: &Args, out: &mut Out<impl Write>) -> Result<Done, Error> {
    let Job {
        addrs,
        options,
        json,
    } = validate(args)?;
    let checking = options.checks.is_some();
    let runtime = super::runtime(1)?;
    let console = Arc::new(Console::new(addrs.len()));
    let (tx, rx) = std::sync::mpsc::channel::<Settled>();
    let observer = console.clone();
    let signalled = Arc::new(OnceLock::new());
    let heard = signalled.clone();
    let downloads = std::thread::Builder::new()
        .name("downloads".into())
        .spawn(move || {
            runtime.block_on(async {
                stop_on_signal(options.stop.clone(), heard)?;
                // An error here is the printer gone (stdout closed): nothing more to do.
                let summary = download_all(addrs, &options, observer, |s| {
                    tx.send(s).map_err(|_| Closed)
                })
                .await;
                Ok::<_, Error>(summary.ok())
            })
        })
        .map_err(|cause| Error::Thread {
            what: "downloads",
            cause,
        })?;
    // On a closed stdout, return at once: the downloads still running end with the process.
    let failed = print(&rx, out, json)?;
    let summary: Option<Summary> = downloads
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    let Some(summary) = summary else {
        return Err(Error::StdoutClosed(Closed));
    };
    console.done();
    say(&summary.line());
    for outcome in &failed {
        say(&format!("error: {}", outcome.line()));
    }
    // The checks a signal stopped say so on their own line; plain downloads are counted here.
    let unfinished = summary.interrupted;
    if let Some(signal) = signalled.get().filter(|_| unfinished > 0 && !checking) {
        say(&format!(
            "error: interrupted ({}) with {unfinished} of {} downloads unfinished",
            signal_name(*signal),
            summary.got + summary.failed
        ));
    }
    Ok(if unfinished > 0 || failed.iter().any(|o| o.interrupted) {
        Done::Interrupted
    } else if summary.failed > 0 {
        Done::SomeFailed
    } else {
        Done::AllGot
    })
}

/// On SIGINT or SIGTERM, notes which in `heard` and cancels `stop` (which ends the downloads in
/// progress and the waiting of `--wait`).
fn stop_on_signal(stop: CancellationToken, heard: Arc<OnceLock<Signal>>) -> Result<(), Error> {
    let signal = common::shutdown::install().map_err(Error::Signals)?;
    tokio::spawn(async move {
        let which = signal.await;
        tracing::info!("{}: stopping the downloads", signal_name(which));
        let _ = heard.set(which);
        stop.cancel();
    });
    Ok(())
}

/// `SIGINT` or `SIGTERM`.
fn signal_name(signal: Signal) -> &'static str {
    match signal {
        Signal::Interrupt => "SIGINT",
        Signal::Terminate => "SIGTERM",
    }
}

/// Poems gathered before a write, as a buffered writer would (many small poems, few writes).
const BATCH: usize = 64 * 1024;

/// Prints what the downloads settle, in order, until they are all done: the poems, or with
/// `json` one object per check. Answers the checks that failed.
fn print(
    settled: &Receiver<Settled>,
    out: &mut Out<impl Write>,
    json: bool,
) -> Result<Vec<Outcome>, PrintError> {
    let mut failed = Vec::new();
    let mut batch = Vec::with_capacity(BATCH);
    let mut next = settled.recv().ok();
    while let Some(Settled { poem, check, .. }) = next {
        if let Some(outcome) = check {
            if json {
                out.line(format_args!("{}", outcome.json()))?;
            }
            if !outcome.ok() {
                failed.push(outcome);
            }
        }
        if let Some(poem) = poem.filter(|_| !json) {
            batch.extend_from_slice(&poem);
        }
        next = match settled.try_recv() {
            Ok(more) if batch.len() < BATCH => Some(more),
            Ok(more) => {
                out.bytes(&batch)?;
                batch.clear();
                Some(more)
            }
            Err(TryRecvError::Empty) => {
                out.bytes(&batch)?;
                out.flush()?;
                batch.clear();
                settled.recv().ok()
            }
            Err(TryRecvError::Disconnected) => None,
        };
    }
    out.bytes(&batch)?;
    out.flush()?;
    Ok(failed)
}
