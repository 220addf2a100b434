//! poetry-client: downloads poems from many poetry servers at once (Get Poetry Now!).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argh::FromArgs;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use poetry::client::{self, Observer, Options, TaskReport};
use poetry::{Error, cli, limits};

/// Download a poem from every address at once and print them on stdout, in the addresses'
/// order, nothing else (the Twisted tutorial's Get Poetry Now! client). A line per download and
/// a final `Got N poems in T` go to stderr. Only a server's clean close completes a poem: a
/// reset, a timeout or an empty poem is a failure. Exit 0 when every download worked, 1 when
/// any failed (the others are still printed), 2 for a bad address.
#[derive(FromArgs)]
#[argh(
    example = "Three downloads at once from ports 9000-9002, the poems into a file:\n$ {command_name} 9000 9001 9002 > poems.txt",
    example = "Lowercased by the poetry-transform service on port 10000:\n$ {command_name} --transform 10000 9000",
    note = "--version prints the version. Guide: docs/poetry.md."
)]
struct Args {
    /// the poetry servers: PORT (meaning 127.0.0.1:PORT) or HOST:PORT
    #[argh(positional, arg_name = "ADDR")]
    addresses: Vec<String>,
    /// give up on a server that sends nothing for this many seconds (default 10)
    #[argh(option, default = "10.0")]
    timeout: f64,
    /// downloads in progress at once (default 1000, fewer under a low open-file limit)
    #[argh(option)]
    concurrency: Option<usize>,
    /// cummingsify every poem through the poetry-transform service at this address (when that
    /// fails, the original poem is kept)
    #[argh(option)]
    transform: Option<String>,
    /// more logs: -v info, -vv debug
    #[argh(switch, short = 'v')]
    verbose: u8,
    /// errors only
    #[argh(switch, short = 'q')]
    quiet: bool,
}

fn main() -> ExitCode {
    let args: Args = common::cli::parse(env!("CARGO_PKG_VERSION"));
    common::logging::init(args.verbose, args.quiet);
    match download(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(common::exit::FAILURE),
        Err(e) => common::exit::finish(Err::<(), _>(e)),
    }
}

/// Downloads everything; `Ok(true)` when every download worked.
fn download(args: &Args) -> Result<bool, Error> {
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
    let timeout = cli::timeout("--timeout", args.timeout)?;
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
    let options = Options {
        timeout,
        concurrency,
        transform,
    };

    let console = Arc::new(Console::new(addrs.len()));
    let summary = cli::runtime(1)?.block_on(async {
        let mut stdout = tokio::io::stdout();
        client::download_all(addrs, &options, console.clone(), &mut stdout).await
    })?;
    console.done();
    eprintln!("{}", summary.line());
    Ok(summary.failed == 0)
}

/// Progress on stderr: a bar per download (a few downloads) or one for all (many), only when
/// stderr is a terminal; the report lines either way.
struct Console {
    bars: Option<Bars>,
}

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    /// One spinner per download in progress, when there are few downloads.
    tasks: Option<Mutex<HashMap<usize, ProgressBar>>>,
}

/// Up to this many downloads get a spinner each.
const BARS_PER_TASK_UP_TO: usize = 20;

impl Console {
    fn new(downloads: usize) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self { bars: None };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(downloads as u64));
        overall.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} poems  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        overall.enable_steady_tick(Duration::from_millis(200));
        let tasks = (downloads <= BARS_PER_TASK_UP_TO).then(|| Mutex::new(HashMap::new()));
        Self {
            bars: Some(Bars {
                multi,
                overall,
                tasks,
            }),
        }
    }

    fn done(&self) {
        if let Some(bars) = &self.bars {
            bars.overall.finish_and_clear();
        }
    }
}

impl Observer for Console {
    fn started(&self, task: usize, addr: SocketAddr) {
        let Some(Bars {
            multi,
            overall,
            tasks: Some(tasks),
        }) = &self.bars
        else {
            return;
        };
        let bar = ProgressBar::new_spinner()
            .with_style(
                ProgressStyle::with_template(
                    "{spinner} Task {prefix}: {bytes} from {msg}  {elapsed}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            )
            .with_prefix(task.to_string())
            .with_message(addr.to_string());
        let bar = multi.insert_before(overall, bar);
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut tasks) = tasks.lock() {
            tasks.insert(task, bar);
        }
    }

    fn received(&self, task: usize, bytes: usize) {
        if let Some(Bars {
            tasks: Some(tasks), ..
        }) = &self.bars
            && let Ok(tasks) = tasks.lock()
            && let Some(bar) = tasks.get(&task)
        {
            bar.set_position(bytes as u64);
        }
    }

    fn finished(&self, report: &TaskReport) {
        let lines = report.lines();
        let Some(bars) = &self.bars else {
            let mut err = std::io::stderr().lock();
            for line in lines {
                let _ = writeln!(err, "{line}");
            }
            return;
        };
        if let Some(tasks) = &bars.tasks
            && let Some(bar) = tasks.lock().ok().and_then(|mut t| t.remove(&report.task))
        {
            bar.finish_and_clear();
            bars.multi.remove(&bar);
        }
        bars.overall.inc(1);
        for line in lines {
            let _ = bars.multi.println(line);
        }
    }
}
