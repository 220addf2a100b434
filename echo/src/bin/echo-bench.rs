//! `echo-bench`: a closed-loop ping-pong load generator for echo servers.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use argh::FromArgs;
use echo::Error;
use echo::bench::{self, Config};

/// Echo benchmark: each connection sends a message, waits for all of it to come back, checks
/// every byte, and sends the next, for --duration seconds. Prints messages/s, MB/s, latency
/// percentiles and errors; exits 1 if any echo was wrong or lost.
#[derive(FromArgs)]
#[argh(
    example = "50 connections x 512 B against 127.0.0.1:1234 for 10 s:\n$ {command_name}",
    example = "Port 4000, 200 connections x 4 KiB for 3 s, as JSON:\n$ {command_name} 4000 --connections 200 --size 4096 --duration 3 --json",
    note = "Exit codes: 0 every echo checked, 1 any error (wrong or lost echo), 2 bad usage. --version prints the version. Guide: docs/echo.md."
)]
struct Args {
    /// the server: PORT or HOST:PORT (default 127.0.0.1:1234)
    #[argh(positional)]
    addr: Option<String>,
    /// connections, each with one message in flight (default 50)
    #[argh(option, default = "50")]
    connections: usize,
    /// bytes per message (default 512)
    #[argh(option, default = "512")]
    size: usize,
    /// seconds to run (default 10)
    #[argh(
        option,
        default = "Duration::from_secs(10)",
        from_str_fn(common::cli::secs)
    )]
    duration: Duration,
    /// print one JSON object instead of text
    #[argh(switch)]
    json: bool,
    /// threads driving the connections (default 1)
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
    common::exit::finish(bench_main(&args))
}

fn bench_main(args: &Args) -> Result<(), Error> {
    let addr = common::addr::parse_connect_addr(args.addr.as_deref().unwrap_or("127.0.0.1:1234"))?;
    let config = Config {
        addr,
        connections: args.connections,
        size: args.size,
        duration: args.duration,
    };
    config.check()?;
    if args.threads == 0 {
        return Err(Error::Usage("error: --threads must be at least 1".into()));
    }
    let limit = common::limits::raise_fd_limit();
    if limit < args.connections as u64 + 64 {
        tracing::warn!(
            "the open-file limit is {limit}: fewer than {} connections may open",
            args.connections
        );
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

    let progress = Arc::new(AtomicU64::new(0));
    let report = runtime.block_on(async {
        let bar = std::io::stderr()
            .is_terminal()
            .then(|| tokio::spawn(show_progress(Arc::clone(&progress), args.duration)));
        let report = bench::run(&config, progress).await;
        if let Some(bar) = bar {
            bar.abort();
            let _ = bar.await;
        }
        report
    })?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    if report.errors > 0 {
        return Err(Error::BenchErrors(
            report.errors,
            report.first_error.unwrap_or_default(),
        ));
    }
    Ok(())
}

/// A progress bar on stderr (only called when stderr is a terminal).
async fn show_progress(messages: Arc<AtomicU64>, duration: Duration) {
    let bar = indicatif::ProgressBar::new(duration.as_millis() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {elapsed}/{duration} {msg}")
            .expect("a valid template"),
    );
    let bar = scopeguard(bar);
    let start = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tick.tick().await;
        let elapsed = start.elapsed();
        let n = messages.load(Ordering::Relaxed);
        bar.0.set_position(elapsed.as_millis() as u64);
        bar.0.set_message(format!(
            "{:.0} messages/s",
            n as f64 / elapsed.as_secs_f64().max(1e-3)
        ));
    }
}

/// Clears the bar when the task ends or is aborted.
struct ClearOnDrop(indicatif::ProgressBar);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

fn scopeguard(bar: indicatif::ProgressBar) -> ClearOnDrop {
    ClearOnDrop(bar)
}
