//! The command line of `redis-ops`: the flags before the command and the list of commands
//! ([`Args`], [`Command`]), and [`run()`], which hands each command to its file. A command's file
//! holds its argh structure (its doc comment is the `--help` text), its checks into typed
//! options (bounds, conflicts: a usage error, exit 2, before anything connects) and its run:
//!
//! - [`set`], [`get`], [`incr`]: the notes' set and get;
//! - [`pool`](mod@pool): many tasks on a bounded pool;
//! - [`lesson`](mod@lesson): every operation of the lesson, shown and checked;
//! - [`publish`], [`subscribe`]: pub/sub;
//! - [`bench`](mod@bench): `redis-benchmark`'s tests;
//! - [`ping`](mod@ping): is Redis ready?
//!
//! What every command shares, the connection flags (`--url`, `--cluster`, the TLS files) turned
//! into a [`Redis`], is [`connection`]; the runtime a command runs on is here. The binary calls
//! [`run()`] and maps the result to an exit code.

// The doc comments are argh's help texts, written for a terminal (`pipeline <numreq>`).
#![allow(rustdoc::invalid_html_tags)]

pub mod bench;
pub mod connection;
pub mod get;
pub mod incr;
pub mod lesson;
pub mod ping;
pub mod pool;
pub mod publish;
pub mod set;
pub mod subscribe;

use std::future::Future;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use argh::FromArgs;
use common::exit::say;
use common::output::{Out, PrintError};

use crate::connect::Redis;
use crate::error::{Error, io};
use connection::Connection;

/// The default `--retry-for`: how long a long run keeps reconnecting after the server went away.
pub const RETRY_FOR: Duration = Duration::from_secs(30);

/// Redis from Rust: set/get, a connection pool, every operation of the lesson, pub/sub.
/// Talks to the Redis at --url (default $REDIS_URL, else redis://127.0.0.1:6379/0; rediss:// for
/// TLS, trusting the system's CAs unless --cacert); a password in a URL is printed as ***. Replies go to stdout, one error line to stderr; `redis-ops <command>
/// --help` describes each command.
#[derive(FromArgs)]
#[argh(
    example = "The notes' set and get (prints OK, then bar):\n$ {command_name} set foo bar\n$ {command_name} get foo",
    example = "Every operation of the lesson, shown and checked; 64 tasks sharing a pool of 4:\n$ {command_name} lesson all\n$ {command_name} pool --size 4 --tasks 64",
    note = "Exit codes: 0 success, 1 runtime failure (unreachable server, a reply that disagreed, a key not set), 2 bad usage, 130 a job cut short by SIGINT/SIGTERM (after cleaning up; subscribe without --count exits 0). --version prints the version. Guide: docs/redis.md."
)]
pub struct Args {
    /// redis URL (default: $REDIS_URL, else redis://127.0.0.1:6379/0)
    #[argh(option)]
    pub url: Option<String>,
    /// seconds to wait for a connection or a reply (default 5)
    #[argh(
        option,
        default = "crate::connect::DEFAULT_TIMEOUT",
        from_str_fn(common::cli::positive_secs)
    )]
    pub timeout: Duration,
    /// more logs (-v info, -vv debug)
    #[argh(switch, short = 'v')]
    pub verbose: u8,
    /// errors only
    #[argh(switch, short = 'q')]
    pub quiet: bool,
    /// CA certificates (PEM) to trust for rediss:// instead of the system's
    #[argh(option)]
    pub cacert: Option<std::path::PathBuf>,
    /// a client certificate (PEM) for rediss:// (with --key; Redis with tls-auth-clients)
    #[argh(option)]
    pub cert: Option<std::path::PathBuf>,
    /// the private key (PEM) of --cert
    #[argh(option)]
    pub key: Option<std::path::PathBuf>,
    /// rediss:// without checking the server's certificate (says so on stderr)
    #[argh(switch)]
    pub insecure: bool,
    /// a Redis Cluster seed node URL (repeat it, or separate with commas, for more seeds):
    /// set, get, incr, publish, lesson, bench and ping then run on the cluster
    #[argh(option)]
    pub cluster: Vec<String>,
    #[argh(subcommand)]
    pub command: Command,
}

/// The commands, in the order `--help` lists them.
#[derive(FromArgs)]
#[argh(subcommand)]
pub enum Command {
    Set(set::Args),
    Get(get::Args),
    Incr(incr::Args),
    Pool(pool::Args),
    Lesson(lesson::Args),
    Publish(publish::Args),
    Subscribe(subscribe::Args),
    Bench(bench::Args),
    Ping(ping::Args),
}

impl Args {
    /// The connection flags, the `-q` switch, and the command.
    fn split(self) -> (Connection, bool, Command) {
        let Self {
            url,
            timeout,
            verbose: _,
            quiet,
            cacert,
            cert,
            key,
            insecure,
            cluster,
            command,
        } = self;
        let tls = common::tls::TlsOptions {
            cacert,
            cert,
            key,
            insecure,
        };
        let to = Connection {
            url,
            timeout,
            tls,
            cluster,
        };
        (to, quiet, command)
    }
}

/// Checks `args`, runs the command and prints on `out`. `Ok` carries the exit code (0, or 1
/// for a `get` of a missing key or a `ping` that did not pass, already reported); an error is
/// for [`common::cli::finish`] (a closed `out` among them: exit 0, nothing printed).
pub fn run<W: Write>(args: Args, out: &mut Out<W>) -> Result<ExitCode, Error> {
    let (to, quiet, command) = args.split();
    match command {
        Command::Set(a) => set::run(a, &to, out),
        Command::Get(a) => get::run(a, &to, out),
        Command::Incr(a) => incr::run(a, &to, out),
        Command::Pool(a) => pool::run(&a, &to, out),
        Command::Lesson(a) => lesson::run(a, &to, out),
        Command::Publish(a) => publish::run(a, &to, out),
        Command::Subscribe(a) => subscribe::run(a, &to, quiet, out),
        Command::Bench(a) => bench::run(a, &to, out),
        Command::Ping(a) => ping::run(a, &to, out),
    }
}

/// The crates whose own log is kept at `info` at most, whatever the flags or `RUST_LOG` say:
/// their debug and trace lines carry connection details and replies (an AUTH command) that no
/// redaction of URLs can recognise as secrets.
pub const CAPPED: [&str; 2] = ["redis", "deadpool"];

/// Logging as every tool sets it up ([`common::logging::init_with`]: every line redacted,
/// whoever logged it), with the redis crate's own log capped ([`CAPPED`]).
pub fn init_logging(verbose: u8, quiet: bool) {
    common::logging::init_with(
        verbose,
        quiet,
        &common::logging::Quiet {
            defaults: &[],
            capped: &CAPPED,
        },
    );
}

/// How many worker threads a command's runtime has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Threads {
    /// One: `bench` runs like redis-benchmark, every connection on one thread; ping's checks
    /// are a few exchanges each.
    One,
    /// One per core.
    All,
}

/// Runs `job` against `redis` ([`prepare`], then [`block_on`]).
fn execute<T>(
    redis: &Redis,
    threads: Threads,
    job: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    prepare(redis.is_insecure());
    block_on(redis, threads, job)
}

/// What comes before any connection: rustls on ring for the redis crate's `rediss://` and the
/// raw links of `bench` and `ping`, and the `--insecure` warning when it applies.
fn prepare(insecure: bool) {
    common::tls::install_crypto_provider();
    if insecure {
        say(common::tls::INSECURE_WARNING);
    }
}

/// Runs `job` on a runtime of its own, inside a `LocalSet`, after the `connecting to` log line.
fn block_on<T>(
    redis: &Redis,
    threads: Threads,
    job: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let threads = match threads {
        Threads::One => 1,
        Threads::All => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
    };
    let runtime = common::runtime::build(threads.min(common::runtime::MAX_THREADS))
        .map_err(io("cannot start the async runtime"))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        tracing::debug!(
            default = crate::url::DEFAULT_URL,
            "connecting to {}",
            redis.url()
        );
        job.await
    })
}

/// SIGINT and SIGTERM, as a future (to be called inside the runtime).
fn shutdown() -> Result<impl Future<Output = common::shutdown::Signal>, Error> {
    common::shutdown::install().map_err(io("cannot install the signal handlers"))
}

/// What a command whose job is not printing does with a printing failure: a closed stdout (its
/// reader went away) is no failure of the job; another one is.
fn printed_if_read(printing: Result<(), PrintError>) -> Result<(), Error> {
    match printing {
        Ok(()) | Err(PrintError::Closed(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A usage error (exit 2).
fn usage(message: &str) -> Error {
    Error::Usage(message.to_owned())
}

/// The exit code of a command that ran to its end.
fn done(result: Result<(), Error>) -> Result<ExitCode, Error> {
    result.map(|()| ExitCode::SUCCESS)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::ffi::OsString;

    /// The connection flags and the command of `redis-ops <args>`, or argh's refusal.
    pub(crate) fn parse(args: &[&str]) -> Result<(Connection, Command), String> {
        let args: Vec<OsString> = std::iter::once("redis-ops")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        match common::cli::parse_from::<Args>(&args, "0") {
            common::cli::Parsed::Run(a) => {
                let (to, _, command) = a.split();
                Ok((to, command))
            }
            common::cli::Parsed::Print(text) | common::cli::Parsed::Usage(text) => Err(text),
        }
    }

    #[test]
    fn a_bad_timeout_is_argh_s_usage_error() {
        let Err(err) = parse(&["--timeout", "0", "get", "k"]) else {
            panic!("--timeout 0 accepted")
        };
        assert!(err.contains("--timeout"), "{err}");
    }
}
