//! `redis-ops`: Redis from Rust (notes §2). Parses the arguments and calls the library.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use argh::FromArgs;
use redis_ops::bench::{BenchOptions, Test};
use redis_ops::connect::{DEFAULT_URL, url_from};
use redis_ops::kv::{Condition, Expiry};
use redis_ops::lesson::{Group, Options};
use redis_ops::pool::PoolOptions;
use redis_ops::pubsub::{Event, Listen};
use redis_ops::{Error, Redis, bench, kv, lesson, pool, pubsub};

/// Redis from Rust: set/get, a connection pool, every operation of the lesson, pub/sub.
/// Talks to the Redis at --url (default $REDIS_URL, else redis://127.0.0.1:6379/0); a password in
/// a URL is printed as ***. Replies go to stdout, one error line to stderr; `redis-ops <command>
/// --help` describes each command.
#[derive(FromArgs)]
#[argh(
    example = "The notes' set and get (prints OK, then bar):\n$ {command_name} set foo bar\n$ {command_name} get foo",
    example = "Every operation of the lesson, shown and checked; 64 tasks sharing a pool of 4:\n$ {command_name} lesson all\n$ {command_name} pool --size 4 --tasks 64",
    note = "Exit codes: 0 success, 1 runtime failure (unreachable server, a reply that disagreed, a key not set), 2 bad usage. --version prints the version. Guide: docs/redis.md."
)]
struct Args {
    /// redis URL (default: $REDIS_URL, else redis://127.0.0.1:6379/0)
    #[argh(option)]
    url: Option<String>,
    /// seconds to wait for a connection (default 5)
    #[argh(option, default = "5.0")]
    timeout: f64,
    /// more logs (-v info, -vv debug)
    #[argh(switch, short = 'v')]
    verbose: u8,
    /// errors only
    #[argh(switch, short = 'q')]
    quiet: bool,
    /// a Redis Cluster seed node URL (repeat it, or separate with commas, for more seeds):
    /// set, get, incr, publish, lesson and bench then run on the cluster
    #[argh(option)]
    cluster: Vec<String>,
    #[argh(subcommand)]
    command: Command,
}

#[derive(FromArgs)]
#[argh(subcommand)]
enum Command {
    Set(SetArgs),
    Get(GetArgs),
    Incr(IncrArgs),
    Pool(PoolArgs),
    Lesson(LessonArgs),
    Publish(PublishArgs),
    Subscribe(SubscribeArgs),
    Bench(BenchArgs),
}

/// redis-benchmark's tests, flags and -q lines: requests per second, p50/p99 latency, errors
#[derive(FromArgs)]
#[argh(subcommand, name = "bench")]
struct BenchArgs {
    /// parallel connections (default 50)
    #[argh(option, short = 'c', default = "50")]
    clients: usize,
    /// total requests per test (default 100000)
    #[argh(option, short = 'n', default = "100000")]
    requests: u64,
    /// pipeline <numreq> requests (default 1: no pipeline)
    #[argh(option, short = 'P', default = "1")]
    pipeline: usize,
    /// data size of SET/GET values in bytes (default 3)
    #[argh(option, short = 'd', default = "3")]
    data_size: usize,
    /// comma-separated tests: set,get,incr,lpush,rpop,sadd,hset,zadd (default all)
    #[argh(option, short = 't')]
    tests: Option<String>,
    /// quiet: one line per test
    #[argh(switch, short = 'q')]
    quiet: bool,
    /// print one JSON object keyed by test name
    #[argh(switch)]
    json: bool,
    /// seconds a connection keeps trying to come back after the server went away (default 30)
    #[argh(option, default = "30.0")]
    retry_for: f64,
}

/// store a value: SET KEY VALUE [EX s | PX ms] [NX | XX]; prints OK
#[derive(FromArgs)]
#[argh(subcommand, name = "set")]
struct SetArgs {
    /// the key
    #[argh(positional)]
    key: String,
    /// the value (give --stdin instead for arbitrary bytes)
    #[argh(positional)]
    value: Option<String>,
    /// read the value from stdin, byte for byte (binary-safe)
    #[argh(switch)]
    stdin: bool,
    /// expire after this many seconds (EX)
    #[argh(option)]
    ex: Option<u64>,
    /// expire after this many milliseconds (PX)
    #[argh(option)]
    px: Option<u64>,
    /// only set a key that does not exist (NX); exit 1 if it does
    #[argh(switch)]
    nx: bool,
    /// only set a key that exists (XX); exit 1 if it does not
    #[argh(switch)]
    xx: bool,
}

/// print a value, byte for byte; (nil) on stderr and exit 1 when the key does not exist
#[derive(FromArgs)]
#[argh(subcommand, name = "get")]
struct GetArgs {
    /// the key
    #[argh(positional)]
    key: String,
}

/// add to an integer (INCRBY) and print the new value
#[derive(FromArgs)]
#[argh(subcommand, name = "incr")]
struct IncrArgs {
    /// the key
    #[argh(positional)]
    key: String,
    /// how much to add (default 1; negative subtracts)
    #[argh(option, default = "1")]
    by: i64,
}

/// many tasks share a bounded connection pool; compare with a connection per operation
#[derive(FromArgs)]
#[argh(subcommand, name = "pool")]
struct PoolArgs {
    /// most connections the pool opens (default 4)
    #[argh(option, default = "4")]
    size: usize,
    /// concurrent tasks (default 64)
    #[argh(option, default = "64")]
    tasks: usize,
    /// INCRs through the pool (default 10000)
    #[argh(option, default = "10000")]
    ops: usize,
    /// INCRs with a new connection each (default: --ops, at most 1000)
    #[argh(option)]
    baseline_ops: Option<usize>,
    /// seconds a task keeps retrying while the server is unreachable (default 30)
    #[argh(option, default = "30.0")]
    retry_for: f64,
}

/// run and check every operation of a lesson group: strings, hashes, lists, sets, zsets, keys, pipeline, pubsub or all
#[derive(FromArgs)]
#[argh(subcommand, name = "lesson")]
struct LessonArgs {
    /// the group: strings, hashes, lists, sets, zsets, keys, pipeline, pubsub or all
    #[argh(positional)]
    group: String,
    /// wait this many milliseconds after each step, to read along (at most 5000)
    #[argh(option, default = "0")]
    pause: u64,
}

/// publish a message on a channel; prints how many subscribers received it
#[derive(FromArgs)]
#[argh(subcommand, name = "publish")]
struct PublishArgs {
    /// the channel
    #[argh(positional)]
    channel: String,
    /// the message
    #[argh(positional)]
    message: String,
}

/// print `channel: message` for every message on the channels
#[derive(FromArgs)]
#[argh(subcommand, name = "subscribe")]
struct SubscribeArgs {
    /// channels (glob patterns with --pattern)
    #[argh(positional)]
    channels: Vec<String>,
    /// exit after this many messages
    #[argh(option)]
    count: Option<usize>,
    /// stop after this many seconds (an error if --count messages have not arrived)
    #[argh(option)]
    timeout: Option<f64>,
    /// the names are patterns (PSUBSCRIBE): news.* matches news.sport
    #[argh(switch)]
    pattern: bool,
    /// seconds to keep trying to reconnect after the server went away (default 30)
    #[argh(option, default = "30.0")]
    retry_for: f64,
}

fn main() -> ExitCode {
    let args: Args = common::cli::parse(env!("CARGO_PKG_VERSION"));
    common::logging::init(args.verbose, args.quiet);
    // bench runs like redis-benchmark: every connection on one thread.
    let runtime = if matches!(args.command, Command::Bench(_)) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Runtime::new()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(common::exit::FAILURE);
        }
    };
    let local = tokio::task::LocalSet::new();
    match local.block_on(&runtime, run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(common::exit::FAILURE),
        Err(e) => common::exit::finish(Err(e)),
    }
}

/// Runs the command; `Ok(false)` is a quiet failure already reported (`get` of a missing key).
async fn run(args: Args) -> Result<bool, Error> {
    let timeout = seconds("--timeout", args.timeout)?;
    let seeds: Vec<String> = args
        .cluster
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let cluster = !seeds.is_empty();
    if cluster && args.url.is_some() {
        return Err(usage("give --url or --cluster, not both"));
    }
    let url = url_from(args.url);
    let target = || {
        if cluster {
            Redis::cluster(&seeds, timeout)
        } else {
            Redis::new(&url, timeout)
        }
    };
    let single_only = |what: &str| {
        if cluster {
            Err(usage(&format!(
                "{what} does not run on a cluster (--cluster): use --url with one node"
            )))
        } else {
            Ok(())
        }
    };
    tracing::debug!(
        default = DEFAULT_URL,
        "connecting to {}",
        common::redact::Redacted(if cluster { &seeds[0] } else { &url })
    );
    match args.command {
        Command::Set(a) => set(target()?, a).await,
        Command::Get(a) => {
            let redis = target()?;
            let mut conn = redis.conn().await?;
            let Some(value) = kv::get(&mut conn, &a.key).await? else {
                eprintln!("(nil)");
                return Ok(false);
            };
            let mut out = std::io::stdout().lock();
            out.write_all(&value).map_err(write_error)?;
            if out.is_terminal() {
                out.write_all(b"\n").map_err(write_error)?;
            }
            out.flush().map_err(write_error)?;
            Ok(true)
        }
        Command::Incr(a) => {
            let redis = target()?;
            let mut conn = redis.conn().await?;
            println!("{}", kv::incr(&mut conn, &a.key, a.by).await?);
            Ok(true)
        }
        Command::Pool(a) => {
            single_only("pool")?;
            let redis = Redis::new(&url, timeout)?;
            let options = PoolOptions {
                size: a.size,
                tasks: a.tasks,
                ops: a.ops,
                baseline_ops: a.baseline_ops.unwrap_or(a.ops.min(1000)),
                retry_for: seconds("--retry-for", a.retry_for)?,
            };
            let report = pool::run(&redis, options, shutdown()?).await?;
            println!("{report}");
            Ok(true)
        }
        Command::Lesson(a) => {
            let groups = Group::parse(&a.group)?;
            if a.pause > 5000 {
                return Err(usage("lesson: --pause is at most 5000 ms"));
            }
            let redis = target()?;
            let options = Options {
                pause: Duration::from_millis(a.pause),
            };
            let mut out = std::io::stdout();
            let summary = lesson::run(&redis, &groups, &options, &mut out, shutdown()?).await?;
            println!(
                "\nlesson {}: {} replies checked, all as expected",
                a.group, summary.steps
            );
            Ok(true)
        }
        Command::Publish(a) => {
            let redis = target()?;
            let n = pubsub::publish(&redis, &a.channel, a.message.as_bytes()).await?;
            println!("(integer) {n}");
            Ok(true)
        }
        Command::Subscribe(a) => {
            single_only("subscribe")?;
            if a.channels.is_empty() {
                return Err(Error::Usage("subscribe: name at least one channel".into()));
            }
            let listen = Listen {
                timeout: a.timeout.map(|t| seconds("--timeout", t)).transpose()?,
                channels: a.channels,
                patterns: a.pattern,
                count: a.count,
            };
            let redis = Redis::new(&url, timeout)?;
            let quiet = args.quiet;
            let names = listen.channels.join(", ");
            let notify = move |event: Event| match event {
                Event::Subscribed if !quiet => eprintln!("subscribed to {names}"),
                Event::Lost(why) => eprintln!("connection lost ({why}); reconnecting"),
                Event::Resubscribed { attempts, down } => eprintln!(
                    "resubscribed to {names} after {:.1}s ({attempts} attempt(s)); messages published meanwhile were missed",
                    down.as_secs_f64()
                ),
                Event::Subscribed => {}
            };
            let mut out = std::io::stdout();
            let retry_for = seconds("--retry-for", a.retry_for)?;
            pubsub::subscribe(&redis, &listen, &mut out, notify, retry_for, shutdown()?).await?;
            Ok(true)
        }
        Command::Bench(a) => bench(&target()?, a).await,
    }
}

async fn bench(redis: &Redis, a: BenchArgs) -> Result<bool, Error> {
    let tests = match &a.tests {
        Some(list) => Test::parse_list(list)?,
        None => Test::ALL.to_vec(),
    };
    if a.clients == 0 || a.pipeline == 0 || a.requests == 0 {
        return Err(usage("bench: -c, -n and -P must be at least 1"));
    }
    let options = BenchOptions {
        clients: a.clients,
        requests: a.requests,
        pipeline: a.pipeline,
        data_size: a.data_size,
        tests,
        retry_for: seconds("--retry-for", a.retry_for)?,
    };
    let reports = bench::run(redis, &options).await?;
    if a.json {
        println!("{}", bench::json(&reports));
    } else {
        for r in &reports {
            if a.quiet {
                println!("{}", r.quiet_line());
            } else {
                println!("{}\n", r.long(&options));
            }
        }
    }
    for r in reports.iter().filter(|r| r.errors > 0) {
        eprintln!(
            "{}: {} request(s) failed, {} reconnect(s); first: {}",
            r.test.name().to_ascii_uppercase(),
            r.errors,
            r.reconnects,
            r.first_error.as_deref().unwrap_or("?")
        );
    }
    Ok(true)
}

async fn set(redis: Redis, a: SetArgs) -> Result<bool, Error> {
    let expiry = match (a.ex, a.px) {
        (Some(_), Some(_)) => return Err(usage("set: give --ex or --px, not both")),
        (Some(0), None) | (None, Some(0)) => {
            return Err(usage("set: the expiry must be at least 1"));
        }
        (Some(s), None) => Some(Expiry::Seconds(s)),
        (None, Some(ms)) => Some(Expiry::Millis(ms)),
        (None, None) => None,
    };
    let condition = match (a.nx, a.xx) {
        (true, true) => return Err(usage("set: give --nx or --xx, not both")),
        (true, false) => Some(Condition::IfMissing),
        (false, true) => Some(Condition::IfExists),
        (false, false) => None,
    };
    let value = match (a.value, a.stdin) {
        (Some(v), false) => v.into_bytes(),
        (None, true) => {
            let mut buf = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .map_err(|source| Error::Io {
                    what: "cannot read the value from stdin",
                    source,
                })?;
            buf
        }
        (Some(_), true) => return Err(usage("set: give a VALUE or --stdin, not both")),
        (None, false) => return Err(usage("set: give a VALUE (or --stdin)")),
    };
    let mut conn = redis.conn().await?;
    kv::set(&mut conn, &a.key, &value, expiry, condition).await?;
    println!("OK");
    Ok(true)
}

fn usage(message: &str) -> Error {
    Error::Usage(message.to_owned())
}

/// A positive number of seconds.
fn seconds(flag: &str, value: f64) -> Result<Duration, Error> {
    common::cli::duration_from_secs(value, false).map_err(|e| usage(&format!("{flag}: {e}")))
}

fn shutdown() -> Result<impl std::future::Future<Output = common::shutdown::Signal>, Error> {
    common::shutdown::install().map_err(|source| Error::Io {
        what: "cannot install the signal handlers",
        source,
    })
}

fn write_error(source: std::io::Error) -> Error {
    Error::Io {
        what: "cannot write to stdout",
        source,
    }
}
