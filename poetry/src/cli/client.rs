//! poetry-client's command line: the downloads run on a thread of their own while this one
//! prints, so that a slow reader of stdout never holds a download back, and a closed stdout
//! ends the program at once, quietly.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Duration;

use argh::FromArgs;
use common::cli::positive_secs;
use common::exit::{FAILURE, say};
use common::output::{Closed, Out, PrintError};

use super::console::Console;
use crate::client::{Options, Settled, Summary, download_all};
use crate::{Error, limits};

/// Download a poem from every address at once and print them on stdout, in the addresses'
/// order, nothing else (the Twisted tutorial's Get Poetry Now! client). A line per download and
/// a final `Got N poems in T` go to stderr. Only a server's clean close completes a poem: a
/// reset, a timeout or an empty poem is a failure. Exit 0 when every download worked, 1 when
/// any failed (the others are still printed), 2 for a bad address.
#[derive(FromArgs, Debug)]
#[argh(
    example = "Three downloads at once from ports 9000-9002, the poems into a file:\n$ {command_name} 9000 9001 9002 > poems.txt",
    example = "Lowercased by the poetry-transform service on port 10000:\n$ {command_name} --transform 10000 9000",
    note = "--version prints the version. Guide: docs/poetry.md."
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
    /// downloads in progress at once (default 1000, fewer under a low open-file limit)
    #[argh(option)]
    concurrency: Option<usize>,
    /// cummingsify every poem through the poetry-transform service at this address (when that
    /// fails, the original poem is kept)
    #[argh(option)]
    transform: Option<String>,
    /// more logs: -v info, -vv debug
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
}

impl Done {
    /// The exit code.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Done::AllGot => ExitCode::SUCCESS,
            Done::SomeFailed => ExitCode::from(FAILURE),
        }
    }
}

/// The checked command line.
struct Job {
    addrs: Vec<SocketAddr>,
    options: Options,
}

fn validate(args: &Args) -> Result<Job, Error> {
    if args.addresses.is_empty() {
        return Err(Error::Usage(
            "give at least one address to download from, [host:]port".into(),
        ));
    }
    // The same address repeated is parsed (and maybe resolved) once.
    let mut parsed: HashMap<&str, SocketAddr> = HashMap::new();
    let mut addrs = Vec::with_capacity(args.addresses.len());
    for a in &args.addresses {
        let addr = if let Some(addr) = parsed.get(a.as_str()) {
            *addr
        } else {
            let addr = common::parse_connect_addr(a)?;
            parsed.insert(a, addr);
            addr
        };
        addrs.push(addr);
    }
    let transform = args
        .transform
        .as_deref()
        .map(common::parse_connect_addr)
        .transpose()?;
    let fd_limit = limits::raise_fd_limit();
    let concurrency = match args.concurrency {
        Some(0) => return Err(Error::Usage("--concurrency must be 1 or more".into())),
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
    Ok(Job {
        addrs,
        options: Options {
            timeout: args.timeout,
            concurrency,
            transform,
        },
    })
}

/// Downloads everything and prints the poems on `out`.
pub fn run(args: &Args, out: &mut Out<impl Write>) -> Result<Done, Error> {
    let Job { addrs, options } = validate(args)?;
    let runtime = common::runtime::build(1).map_err(Error::Runtime)?;
    let console = Arc::new(Console::new(addrs.len()));
    let (tx, rx) = std::sync::mpsc::channel::<Settled>();
    let observer = console.clone();
    let downloads = std::thread::Builder::new()
        .name("downloads".into())
        .spawn(move || {
            let deliver = |s| tx.send(s).map_err(|_| Closed);
            // An error here is the printer gone (stdout closed): nothing more to do.
            runtime
                .block_on(download_all(addrs, &options, observer, deliver))
                .ok()
        })
        .map_err(Error::Runtime)?;
    // On a closed stdout, return at once: the downloads still running end with the process.
    print(&rx, out)?;
    let summary: Option<Summary> = downloads
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let Some(summary) = summary else {
        return Err(Error::StdoutClosed(Closed));
    };
    console.done();
    say(&summary.line());
    Ok(if summary.failed > 0 {
        Done::SomeFailed
    } else {
        Done::AllGot
    })
}

/// Poems gathered before a write, as a buffered writer would (many small poems, few writes).
const BATCH: usize = 64 * 1024;

/// Prints the poems the downloads settle, in order, until they are all done.
fn print(settled: &Receiver<Settled>, out: &mut Out<impl Write>) -> Result<(), PrintError> {
    let mut batch = Vec::with_capacity(BATCH);
    let mut next = settled.recv().ok();
    while let Some(Settled { poem, .. }) = next {
        if let Some(poem) = poem {
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
    Ok(())
}
