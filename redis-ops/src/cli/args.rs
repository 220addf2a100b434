//! The command line as argh reads it. Nothing here is checked beyond argh's own parsing:
//! [`super::validate`] turns these into typed options before anything connects.

// The doc comments are argh's help texts, written for a terminal (`pipeline <numreq>`).
#![allow(rustdoc::invalid_html_tags)]

use std::time::Duration;

use argh::FromArgs;

/// The default `--retry-for`: how long a long run keeps reconnecting after the server went away.
pub const RETRY_FOR: Duration = Duration::from_secs(30);

/// Redis from Rust: set/get, a connection pool, every operation of the lesson, pub/sub.
/// Talks to the Redis at --url (default $REDIS_URL, else redis://127.0.0.1:6379/0; rediss:// for
/// TLS, trusting the system's CAs unless --cacert); a password in a URL is printed as ***. Replies go to stdout, one error line to stderr; `redis-ops <command>
/// --help` describes each command.
#[derive(FromArgs, Debug)]
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

#[derive(FromArgs, Debug)]
#[argh(subcommand)]
pub enum Command {
    Set(SetArgs),
    Get(GetArgs),
    Incr(IncrArgs),
    Pool(PoolArgs),
    Lesson(LessonArgs),
    Publish(PublishArgs),
    Subscribe(SubscribeArgs),
    Bench(BenchArgs),
    Ping(PingArgs),
}

/// check that Redis works: PING, then SET, GET and DEL of a fresh key (one line per target);
/// --wait until it does
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "ping",
    example = "Wait up to 30 s for the Redis of $REDIS_URL (or --url) to work:\n$ redis-ops ping --wait 30",
    example = "Two servers at once, as JSON; a cluster through one seed:\n$ redis-ops ping --json redis://10.0.0.1:6379/0 redis://:secret@10.0.0.2:6379/1\n$ redis-ops --cluster redis://127.0.0.1:7000 ping",
    note = "Exit codes: 0 every target passed, 1 one did not (each says why on stderr), 2 bad usage, 130 interrupted while waiting. Guide: docs/redis.md."
)]
pub struct PingArgs {
    /// the servers to check at once (default: --url, else $REDIS_URL, else
    /// redis://127.0.0.1:6379/0)
    #[argh(positional)]
    pub urls: Vec<String>,
    /// keep trying, with a backoff, for up to this many seconds until the check passes
    /// (default: one try)
    #[argh(option, from_str_fn(common::cli::secs))]
    pub wait: Option<Duration>,
    /// print one JSON object per target per line instead
    #[argh(switch)]
    pub json: bool,
}

/// redis-benchmark's tests, flags and -q lines: requests per second, p50/p99 latency, errors
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "bench")]
pub struct BenchArgs {
    /// parallel connections (default 50, at most 10000)
    #[argh(option, short = 'c', default = "50")]
    pub clients: usize,
    /// total requests per test (default 100000, at most 1000000000)
    #[argh(option, short = 'n', default = "100000")]
    pub requests: u64,
    /// pipeline <numreq> requests (default 1: no pipeline; at most 100000)
    #[argh(option, short = 'P', default = "1")]
    pub pipeline: usize,
    /// data size of SET/GET values in bytes (default 3, at most 536870912; -c x -P x -d within
    /// 1 GiB)
    #[argh(option, short = 'd', default = "3")]
    pub data_size: usize,
    /// comma-separated tests: set,get,incr,lpush,rpop,sadd,hset,zadd (default all)
    #[argh(option, short = 't')]
    pub tests: Option<String>,
    /// quiet: one line per test
    #[argh(switch, short = 'q')]
    pub quiet: bool,
    /// print one JSON object keyed by test name
    #[argh(switch)]
    pub json: bool,
    /// seconds a connection keeps trying to come back after the server went away (default 30)
    #[argh(option, default = "RETRY_FOR", from_str_fn(common::cli::positive_secs))]
    pub retry_for: Duration,
}

/// store a value: SET KEY VALUE [EX s | PX ms] [NX | XX]; prints OK
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "set")]
pub struct SetArgs {
    /// the key
    #[argh(positional)]
    pub key: String,
    /// the value (give --stdin instead for arbitrary bytes)
    #[argh(positional)]
    pub value: Option<String>,
    /// read the value from stdin, byte for byte (binary-safe; at most 64 MiB)
    #[argh(switch)]
    pub stdin: bool,
    /// expire after this many seconds (EX)
    #[argh(option)]
    pub ex: Option<u64>,
    /// expire after this many milliseconds (PX)
    #[argh(option)]
    pub px: Option<u64>,
    /// only set a key that does not exist (NX); exit 1 if it does
    #[argh(switch)]
    pub nx: bool,
    /// only set a key that exists (XX); exit 1 if it does not
    #[argh(switch)]
    pub xx: bool,
}

/// print a value, byte for byte; (nil) on stderr and exit 1 when the key does not exist
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "get")]
pub struct GetArgs {
    /// the key
    #[argh(positional)]
    pub key: String,
}

/// add to an integer (INCRBY) and print the new value
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "incr")]
pub struct IncrArgs {
    /// the key
    #[argh(positional)]
    pub key: String,
    /// how much to add (default 1; negative subtracts)
    #[argh(option, default = "1")]
    pub by: i64,
}

/// many tasks share a bounded connection pool; compare with a connection per operation
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "pool")]
pub struct PoolArgs {
    /// most connections the pool opens (default 4, at most 1024)
    #[argh(option, default = "4")]
    pub size: usize,
    /// concurrent tasks (default 64, at most 100000)
    #[argh(option, default = "64")]
    pub tasks: usize,
    /// INCRs through the pool (default 10000, at most 100000000)
    #[argh(option, default = "10000")]
    pub ops: usize,
    /// INCRs with a new connection each (default: the smaller of --ops and
    /// 1000; at most 100000000)
    #[argh(option)]
    pub baseline_ops: Option<usize>,
    /// seconds a task keeps retrying while the server is unreachable (default 30)
    #[argh(option, default = "RETRY_FOR", from_str_fn(common::cli::positive_secs))]
    pub retry_for: Duration,
}

/// run and check every operation of a lesson group: strings, hashes, lists, sets, zsets, keys, pipeline, pubsub or all
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "lesson")]
pub struct LessonArgs {
    /// the group: strings, hashes, lists, sets, zsets, keys, pipeline, pubsub or all
    #[argh(positional)]
    pub group: String,
    /// wait this many milliseconds after each step, to read along (at most 5000)
    #[argh(option, default = "0")]
    pub pause: u64,
}

/// publish a message on a channel; prints how many subscribers received it
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "publish")]
pub struct PublishArgs {
    /// the channel
    #[argh(positional)]
    pub channel: String,
    /// the message
    #[argh(positional)]
    pub message: String,
}

/// print `channel: message` for every message on the channels
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "subscribe")]
pub struct SubscribeArgs {
    /// channels (glob patterns with --pattern)
    #[argh(positional)]
    pub channels: Vec<String>,
    /// exit after this many messages (1 to 1000000000)
    #[argh(option)]
    pub count: Option<usize>,
    /// stop after this many seconds (an error if --count messages have not arrived)
    #[argh(option, from_str_fn(common::cli::positive_secs))]
    pub timeout: Option<Duration>,
    /// the names are patterns (PSUBSCRIBE): news.* matches news.sport
    #[argh(switch)]
    pub pattern: bool,
    /// seconds to keep trying to reconnect after the server went away (default 30)
    #[argh(option, default = "RETRY_FOR", from_str_fn(common::cli::positive_secs))]
    pub retry_for: Duration,
}
