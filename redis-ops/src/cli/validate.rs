//! The command line, checked: argh's structs become typed options, every bound checked and every
//! URL parsed, before anything connects. A mistake here is a usage error (exit 2).

use std::io::IsTerminal;
use std::time::Duration;

use common::probe::Probe;

use super::args::{
    Args, BenchArgs, Command, LessonArgs, PingArgs, PoolArgs, SetArgs, SubscribeArgs,
};
use crate::bench::{BenchOptions, Test};
use crate::connect::{Redis, url_from};
use crate::error::Error;
use crate::kv::{Condition, Expiry};
use crate::lesson::{self, Group};
use crate::ping::{MAX_TARGETS, Target};
use crate::pool::PoolOptions;
use crate::pubsub::Listen;

/// The most milliseconds `lesson --pause` takes.
pub const MAX_PAUSE_MS: u64 = 5000;

/// The most connections `pool --size` opens.
pub const MAX_POOL_SIZE: usize = 1024;

/// The most tasks `pool --tasks` starts.
pub const MAX_POOL_TASKS: usize = 100_000;

/// The most INCRs `pool --ops` and `--baseline-ops` run.
pub const MAX_POOL_OPS: usize = 100_000_000;

/// The most messages `subscribe --count` waits for.
pub const MAX_COUNT: usize = 1_000_000_000;

/// The most bytes `set --stdin` reads: a larger value is refused before it is sent (and before
/// more than this is held in memory).
pub const MAX_VALUE_BYTES: u64 = 64 << 20;

/// The most seed nodes `--cluster` takes.
pub const MAX_SEEDS: usize = 64;

/// The command line, checked.
#[derive(Debug)]
pub struct Options {
    /// The server (or the cluster, with `--cluster`).
    pub redis: Redis,
    /// What to do.
    pub job: Job,
    /// `-q`: errors only.
    pub quiet: bool,
    /// `--insecure` with a `rediss://` URL: say so on stderr before connecting.
    pub insecure: bool,
}

/// Where `set` takes its value from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// The command line's VALUE.
    Given(Vec<u8>),
    /// Standard input, byte for byte (`--stdin`).
    Stdin,
}

/// How `bench` prints its reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchFormat {
    /// A block per test.
    Long,
    /// `-q`: one line per test.
    Quiet,
    /// `--json`: one object.
    Json,
}

/// One command, checked.
#[derive(Debug)]
pub enum Job {
    /// `set KEY VALUE [--ex|--px] [--nx|--xx]`.
    Set {
        /// The key.
        key: String,
        /// The value.
        value: Value,
        /// EX or PX.
        expiry: Option<Expiry>,
        /// NX or XX.
        condition: Option<Condition>,
    },
    /// `get KEY`.
    Get {
        /// The key.
        key: String,
        /// Standard output is a terminal: add a newline after the value.
        terminal: bool,
    },
    /// `incr KEY [--by N]`.
    Incr {
        /// The key.
        key: String,
        /// How much to add.
        by: i64,
    },
    /// `pool`.
    Pool(PoolOptions),
    /// `lesson GROUP`.
    Lesson {
        /// The name given (`all`, `strings`...).
        name: String,
        /// The groups it selects.
        groups: Vec<Group>,
        /// `--pause`.
        options: lesson::Options,
    },
    /// `publish CHANNEL MESSAGE`.
    Publish {
        /// The channel.
        channel: String,
        /// The message.
        message: String,
    },
    /// `subscribe CHANNEL...`.
    Subscribe {
        /// Channels, count, timeout.
        listen: Listen,
        /// `--retry-for`.
        retry_for: Duration,
    },
    /// `bench`.
    Bench {
        /// The flags.
        options: BenchOptions,
        /// How to print.
        format: BenchFormat,
    },
    /// `ping [URL...]`.
    Ping {
        /// What to check.
        targets: Vec<Target>,
        /// `--wait` and `--timeout`.
        probe: Probe,
        /// `--json`.
        json: bool,
    },
}

impl TryFrom<Args> for Options {
    type Error = Error;

    fn try_from(args: Args) -> Result<Self, Error> {
        let seeds = seeds(&args.cluster)?;
        if args.url.as_deref().is_some_and(|u| u.trim().is_empty()) {
            return Err(usage("--url is empty: give a Redis URL"));
        }
        let cluster = !seeds.is_empty();
        let tls_options = common::tls::TlsOptions {
            cacert: args.cacert.clone(),
            cert: args.cert.clone(),
            key: args.key.clone(),
            insecure: args.insecure,
        };
        let tls = tls_options.load()?;
        if cluster && args.url.is_some() {
            return Err(usage("give --url or --cluster, not both"));
        }
        let single_only = |what: &str| {
            if cluster {
                Err(usage(&format!(
                    "{what} does not run on a cluster (--cluster): use --url with one node"
                )))
            } else {
                Ok(())
            }
        };
        match &args.command {
            Command::Pool(_) => single_only("pool")?,
            Command::Subscribe(_) => single_only("subscribe")?,
            _ => {}
        }
        if let Command::Ping(a) = args.command {
            let mut targets = ping_targets(&a, &seeds, args.url, args.timeout)?;
            for t in &mut targets {
                t.redis = t.redis.clone().with_tls(&tls)?;
            }
            tls_flags_need_tls(&tls_options, targets.iter().map(|t| &t.redis))?;
            let insecure = tls.insecure() && targets.iter().any(|t| t.redis.is_tls());
            return Ok(Self {
                insecure,
                redis: targets[0].redis.clone(),
                job: Job::Ping {
                    targets,
                    probe: Probe {
                        wait: a.wait.filter(|w| !w.is_zero()),
                        timeout: args.timeout,
                    },
                    json: a.json,
                },
                quiet: args.quiet,
            });
        }
        let redis = if cluster {
            Redis::cluster(&seeds, args.timeout)?
        } else {
            Redis::new(&url_from(args.url), args.timeout)?
        }
        .with_tls(&tls)?;
        tls_flags_need_tls(&tls_options, [&redis])?;
        let job = match args.command {
            Command::Set(a) => set(a)?,
            Command::Get(a) => Job::Get {
                key: a.key,
                terminal: std::io::stdout().is_terminal(),
            },
            Command::Incr(a) => Job::Incr {
                key: a.key,
                by: a.by,
            },
            Command::Pool(a) => Job::Pool(pool(&a)?),
            Command::Lesson(a) => lesson(a)?,
            Command::Publish(a) => Job::Publish {
                channel: a.channel,
                message: a.message,
            },
            Command::Subscribe(a) => subscribe(a)?,
            Command::Bench(a) => bench(&a)?,
            Command::Ping(_) => unreachable!("ping is checked above"),
        };
        Ok(Self {
            insecure: tls.insecure() && redis.is_tls(),
            redis,
            job,
            quiet: args.quiet,
        })
    }
}

/// `--cacert`, `--cert`, `--key` or `--insecure` with no `rediss://` URL is a usage error: the
/// flags would be silently ignored.
fn tls_flags_need_tls<'a>(
    options: &common::tls::TlsOptions,
    servers: impl IntoIterator<Item = &'a Redis>,
) -> Result<(), Error> {
    match options.first_given() {
        Some(flag) if !servers.into_iter().any(Redis::is_tls) => {
            Err(usage(&format!("{flag} needs a rediss:// URL (TLS)")))
        }
        _ => Ok(()),
    }
}

/// The seed URLs of `--cluster` (repeated, or separated with commas): an empty list, or an
/// empty item in it, is a usage error, never a silent fall-back to the single default node.
fn seeds(given: &[String]) -> Result<Vec<String>, Error> {
    let mut seeds = Vec::new();
    for s in given.iter().flat_map(|s| s.split(',')).map(str::trim) {
        if s.is_empty() {
            return Err(usage(
                "--cluster: an empty seed URL (give redis://host:port, or several separated by commas)",
            ));
        }
        seeds.push(s.to_owned());
    }
    if seeds.len() > MAX_SEEDS {
        return Err(usage(&format!("--cluster: at most {MAX_SEEDS} seed URLs")));
    }
    Ok(seeds)
}

fn set(a: SetArgs) -> Result<Job, Error> {
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
        (Some(v), false) => Value::Given(v.into_bytes()),
        (None, true) => Value::Stdin,
        (Some(_), true) => return Err(usage("set: give a VALUE or --stdin, not both")),
        (None, false) => return Err(usage("set: give a VALUE (or --stdin)")),
    };
    Ok(Job::Set {
        key: a.key,
        value,
        expiry,
        condition,
    })
}

fn pool(a: &PoolArgs) -> Result<PoolOptions, Error> {
    if a.size == 0 || a.tasks == 0 {
        return Err(usage("--size and --tasks must be at least 1"));
    }
    if a.size > MAX_POOL_SIZE || a.tasks > MAX_POOL_TASKS {
        return Err(usage(&format!(
            "pool: --size is at most {MAX_POOL_SIZE} and --tasks at most {MAX_POOL_TASKS}"
        )));
    }
    if a.ops > MAX_POOL_OPS || a.baseline_ops.is_some_and(|n| n > MAX_POOL_OPS) {
        return Err(usage(&format!(
            "pool: --ops and --baseline-ops are at most {MAX_POOL_OPS}"
        )));
    }
    Ok(PoolOptions {
        size: a.size,
        tasks: a.tasks,
        ops: a.ops,
        baseline_ops: a.baseline_ops.unwrap_or(a.ops.min(1000)),
        retry_for: a.retry_for,
    })
}

fn lesson(a: LessonArgs) -> Result<Job, Error> {
    let groups = Group::parse(&a.group)?;
    if a.pause > MAX_PAUSE_MS {
        return Err(usage(&format!(
            "lesson: --pause is at most {MAX_PAUSE_MS} ms"
        )));
    }
    Ok(Job::Lesson {
        name: a.group,
        groups,
        options: lesson::Options {
            pause: Duration::from_millis(a.pause),
        },
    })
}

fn subscribe(a: SubscribeArgs) -> Result<Job, Error> {
    if a.channels.is_empty() {
        return Err(usage("subscribe: name at least one channel"));
    }
    if a.channels.iter().any(String::is_empty) {
        return Err(usage("subscribe: a channel name is empty"));
    }
    if a.count.is_some_and(|n| n == 0 || n > MAX_COUNT) {
        return Err(usage(&format!(
            "subscribe: --count is from 1 to {MAX_COUNT}"
        )));
    }
    Ok(Job::Subscribe {
        listen: Listen {
            channels: a.channels,
            patterns: a.pattern,
            count: a.count,
            timeout: a.timeout,
        },
        retry_for: a.retry_for,
    })
}

fn bench(a: &BenchArgs) -> Result<Job, Error> {
    let tests = match &a.tests {
        Some(list) => Test::parse_list(list)?,
        None => Test::ALL.to_vec(),
    };
    let options = BenchOptions {
        clients: a.clients,
        requests: a.requests,
        pipeline: a.pipeline,
        data_size: a.data_size,
        tests,
        retry_for: a.retry_for,
    };
    options.check()?;
    let format = if a.json {
        BenchFormat::Json
    } else if a.quiet {
        BenchFormat::Quiet
    } else {
        BenchFormat::Long
    };
    Ok(Job::Bench { options, format })
}

/// The targets of `ping`: the URLs after it, else `--url` (or `$REDIS_URL`), or the cluster of
/// `--cluster`. Each must be a plain TCP `redis://` URL.
fn ping_targets(
    a: &PingArgs,
    seeds: &[String],
    url: Option<String>,
    timeout: Duration,
) -> Result<Vec<Target>, Error> {
    if !a.urls.is_empty() && (url.is_some() || !seeds.is_empty()) {
        return Err(usage(
            "ping: give the URLs after ping, or --url or --cluster, not both",
        ));
    }
    if a.urls.iter().any(|u| u.trim().is_empty()) {
        return Err(usage("ping: an empty URL"));
    }
    if a.urls.len() > MAX_TARGETS {
        return Err(usage(&format!("ping: at most {MAX_TARGETS} targets")));
    }
    let targets = if seeds.is_empty() {
        let urls = if a.urls.is_empty() {
            vec![url_from(url)]
        } else {
            a.urls.clone()
        };
        let mut targets = Vec::with_capacity(urls.len());
        for url in urls {
            let redis = Redis::new(&url, timeout)?;
            targets.push(Target { url, redis });
        }
        targets
    } else {
        vec![Target {
            url: seeds[0].clone(),
            redis: Redis::cluster(seeds, timeout)?,
        }]
    };
    for t in &targets {
        // Plain TCP only (not a unix socket): the check speaks RESP on a socket of its own.
        t.redis.addr()?;
    }
    Ok(targets)
}

fn usage(message: &str) -> Error {
    Error::Usage(message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Args;
    use std::ffi::OsString;

    fn parse(args: &[&str]) -> Result<Options, String> {
        let args: Vec<OsString> = std::iter::once("redis-ops")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        match common::cli::parse_from::<Args>(&args, "0") {
            common::cli::Parsed::Run(a) => Options::try_from(a).map_err(|e| e.to_string()),
            other => Err(format!("{other:?}")),
        }
    }

    #[test]
    fn conflicts_and_bounds_are_usage_errors() {
        let err = |args: &[&str]| parse(args).unwrap_err();
        assert_eq!(
            err(&[
                "--url",
                "redis://h:1/0",
                "--cluster",
                "redis://h:2",
                "get",
                "k"
            ]),
            "give --url or --cluster, not both"
        );
        assert_eq!(
            err(&["--cluster", "redis://h:2", "pool"]),
            "pool does not run on a cluster (--cluster): use --url with one node"
        );
        assert_eq!(
            err(&["lesson", "all", "--pause", "5001"]),
            "lesson: --pause is at most 5000 ms"
        );
        assert_eq!(
            err(&["pool", "--size", "5000"]),
            "pool: --size is at most 1024 and --tasks at most 100000"
        );
        assert_eq!(
            err(&["bench", "-c", "0"]),
            "bench: -c, -n and -P must be at least 1"
        );
        assert!(err(&["--timeout", "0", "get", "k"]).contains("--timeout"));
    }

    #[test]
    fn seconds_become_durations() {
        let o = parse(&["--timeout", "0.5", "subscribe", "ch", "--timeout", "2"]).unwrap();
        assert_eq!(o.redis.timeout(), Duration::from_millis(500));
        let Job::Subscribe { listen, retry_for } = o.job else {
            panic!("not subscribe")
        };
        assert_eq!(listen.timeout, Some(Duration::from_secs(2)));
        assert_eq!(retry_for, Duration::from_secs(30));
    }
}
