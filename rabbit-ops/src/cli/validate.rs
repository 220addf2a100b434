//! From argh's structs to the library's options: every check argh cannot make (missing binding
//! keys, words that `--stdin` makes a mistake, bounds), before any connection is attempted. A
//! failed check is a usage error (`error: <what>` and the command's help line, exit 2).

use std::time::Duration;

use crate::bench;
use crate::broker::Broker;
use crate::consume::Limits;
use crate::error::Error;
use crate::logs::{self, Binding, Envelope, Kind};
use crate::queues::Generation;
use crate::url::DEFAULT_URL;
use crate::{hello, work};
use crate::{ping, publish};

use super::args::{Args, Command, Emitting};

mod names;
mod tls;

/// The most messages `bench` and `publisher-confirms` send (`bench` keeps a flag per message).
pub const MAX_MESSAGES: u64 = 100_000_000;
/// The largest `bench --size`: RabbitMQ's own default limit on a message (128 MiB).
pub const MAX_SIZE: u64 = 128 * 1024 * 1024;
/// The most connections `bench --producers/--consumers` opens, each on a thread of its own.
pub const MAX_CONNECTIONS: u64 = 1000;
/// The most requests `rpc-client --concurrency` sends at once.
pub const MAX_CONCURRENCY: u64 = 100_000;

/// A checked command line: where the broker is, and what to do.
#[derive(Debug)]
pub struct Options {
    /// The broker (its URLs parsed, with `--connect-timeout`).
    pub broker: Broker,
    /// The command.
    pub job: Job,
}

/// Where a producer's messages come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The one message of the command line.
    Words(String),
    /// stdin, one message per line (`--stdin`).
    Stdin,
}

/// A command with its options checked.
#[derive(Debug)]
#[allow(missing_docs)]
pub enum Job {
    Send {
        queue: String,
        generation: Generation,
        message: String,
    },
    Receive {
        queue: String,
        generation: Generation,
        limits: Limits,
    },
    NewTask {
        queue: String,
        generation: Generation,
        publish: publish::Options,
        messages: Source,
    },
    Worker {
        queue: String,
        generation: Generation,
        dot: Duration,
        limits: Limits,
    },
    /// `emit-log`, `emit-log-direct`, `emit-log-topic`, `emit-log-headers`.
    Emit {
        kind: Kind,
        exchange: String,
        envelope: Envelope,
        publish: publish::Options,
        messages: Source,
    },
    /// `receive-logs`, `receive-logs-direct`, `receive-logs-topic`, `receive-logs-headers`.
    ReceiveLogs {
        kind: Kind,
        exchange: String,
        bindings: Vec<Binding>,
        limits: Limits,
    },
    RpcServer {
        queue: String,
        generation: Generation,
        limits: Limits,
    },
    RpcClient {
        queue: String,
        n: String,
        concurrency: usize,
        timeout: Duration,
    },
    PublisherConfirms {
        messages: u64,
        queue: Option<String>,
        timeout: Duration,
    },
    Bench(bench::Config),
    Ping(ping::Options),
}

/// The broker URLs: every `--url`, else `$AMQP_URL` (a comma-separated list), else the
/// default.
pub fn broker_urls(flags: &[String]) -> Vec<String> {
    if !flags.is_empty() {
        return flags.to_vec();
    }
    let from_env: Vec<String> = std::env::var("AMQP_URL")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect();
    if from_env.is_empty() {
        vec![DEFAULT_URL.to_owned()]
    } else {
        from_env
    }
}

/// Checks the command line and turns it into [`Options`].
pub fn validate(args: Args) -> Result<Options, Error> {
    let urls = broker_urls(&args.url);
    let flags = tls::Flags {
        cacert: args.cacert,
        cert: args.cert,
        key: args.key,
        insecure: args.insecure,
    };
    let command = names::command_name(&args.command);
    let mut job = job(args.command, &urls, args.connect_timeout)?;
    names::check_lengths(command, &job)?;
    let broker = Broker::with_urls(&urls, args.connect_timeout)?;
    let tls = tls::client(flags, &urls)?;
    if let Job::Ping(ping) = &mut job {
        ping.tls.clone_from(&tls);
    }
    Ok(Options {
        broker: broker.with_tls(tls),
        job,
    })
}

fn job(command: Command, urls: &[String], connect_timeout: Duration) -> Result<Job, Error> {
    let limits = |count, idle| Limits { count, idle };
    Ok(match command {
        Command::Send(c) => Job::Send {
            generation: generation(c.classic),
            queue: c.queue,
            message: message(&c.message, hello::MESSAGE),
        },
        Command::Receive(c) => Job::Receive {
            generation: generation(c.classic),
            queue: c.queue,
            limits: limits(c.count, c.timeout),
        },
        Command::NewTask(c) => Job::NewTask {
            messages: source("new-task", c.stdin, &c.message, work::MESSAGE)?,
            generation: task_generation("new-task", c.quorum, c.classic)?,
            queue: c.queue,
            publish: publish::Options {
                confirm: !c.no_confirm,
                retry_for: c.retry_for,
            },
        },
        Command::Worker(c) => Job::Worker {
            generation: task_generation("worker", c.quorum, c.classic)?,
            queue: c.queue,
            dot: c.dot_ms,
            limits: limits(c.count, c.timeout),
        },
        Command::EmitLog(c) => Job::Emit {
            kind: Kind::Fanout,
            messages: source("emit-log", c.stdin, &c.message, "info: Hello World!")?,
            exchange: c.exchange,
            envelope: Envelope::default(),
            publish: emit_options(c.confirm, c.retry_for),
        },
        Command::EmitLogDirect(c) => keyed_emit(Kind::Direct, "info", c.emitting())?,
        Command::EmitLogTopic(c) => keyed_emit(Kind::Topic, "anonymous.info", c.emitting())?,
        Command::EmitLogHeaders(c) => {
            let (headers, rest) = split_headers("emit-log-headers", &c.words)?;
            Job::Emit {
                kind: Kind::Headers,
                messages: source("emit-log-headers", c.stdin, rest, "Hello World!")?,
                exchange: c.exchange,
                envelope: Envelope {
                    routing_key: String::new(),
                    headers,
                },
                publish: emit_options(c.confirm, c.retry_for),
            }
        }
        Command::ReceiveLogs(c) => Job::ReceiveLogs {
            kind: Kind::Fanout,
            exchange: c.exchange,
            bindings: vec![Binding::default()],
            limits: limits(c.count, c.timeout),
        },
        Command::ReceiveLogsDirect(c) => Job::ReceiveLogs {
            kind: Kind::Direct,
            bindings: keys(
                "receive-logs-direct",
                &c.severities,
                "no severity given: name the ones to receive, like info warning error",
            )?,
            exchange: c.exchange,
            limits: limits(c.count, c.timeout),
        },
        Command::ReceiveLogsTopic(c) => Job::ReceiveLogs {
            kind: Kind::Topic,
            bindings: keys(
                "receive-logs-topic",
                &c.binding_keys,
                "no binding key given: name at least one, like kern.* or *.critical or #",
            )?,
            exchange: c.exchange,
            limits: limits(c.count, c.timeout),
        },
        Command::ReceiveLogsHeaders(c) => Job::ReceiveLogs {
            kind: Kind::Headers,
            bindings: vec![headers_binding(&c.match_, &c.headers)?],
            exchange: c.exchange,
            limits: limits(c.count, c.timeout),
        },
        Command::RpcServer(c) => Job::RpcServer {
            generation: generation(c.classic),
            queue: c.queue,
            limits: limits(c.count, c.timeout),
        },
        Command::RpcClient(c) => Job::RpcClient {
            concurrency: at_most(
                "rpc-client",
                "--concurrency",
                c.concurrency,
                MAX_CONCURRENCY,
            )?,
            queue: c.queue,
            n: c.n,
            timeout: c.timeout,
        },
        Command::PublisherConfirms(c) => Job::PublisherConfirms {
            messages: at_most("publisher-confirms", "--messages", c.messages, MAX_MESSAGES)?,
            queue: c.queue,
            timeout: c.timeout,
        },
        Command::Bench(c) => Job::Bench(bench_config(&c)?),
        // Run by `cli::streams::dispatch` before `validate` is reached.
        Command::StreamSend(_)
        | Command::StreamReceive(_)
        | Command::OffsetTrackingSend(_)
        | Command::OffsetTrackingReceive(_) => {
            return Err(Error::usage(
                "rabbit-ops",
                "a stream command runs through cli::streams::dispatch",
            ));
        }
        Command::Ping(c) => Job::Ping(ping::Options {
            targets: urls.to_vec(),
            connect_timeout,
            timeout: c.timeout,
            wait: c.wait,
            json: c.json,
            tls: None,
        }),
    })
}

/// `--classic`: the tutorials' queues as declared before 2026.
fn generation(classic: bool) -> Generation {
    if classic {
        Generation::Classic
    } else {
        Generation::Quorum
    }
}

/// `--quorum` (the default, kept for old scripts) and `--classic` exclude each other.
fn task_generation(
    command: &'static str,
    quorum: bool,
    classic: bool,
) -> Result<Generation, Error> {
    if quorum && classic {
        return Err(Error::usage(
            command,
            "--quorum and --classic exclude each other: pick one (quorum is the default)",
        ));
    }
    Ok(generation(classic))
}

fn emit_options(confirm: bool, retry_for: Duration) -> publish::Options {
    publish::Options { confirm, retry_for }
}

/// The words of a message, or the default.
fn message(words: &[String], default: &str) -> String {
    if words.is_empty() {
        default.to_owned()
    } else {
        words.join(" ")
    }
}

/// The messages of a producer: stdin with `--stdin` (then words that would be a message are a
/// mistake), else the words, else the default.
fn source(
    command: &'static str,
    stdin: bool,
    words: &[String],
    default: &str,
) -> Result<Source, Error> {
    match (stdin, words.is_empty()) {
        (true, true) => Ok(Source::Stdin),
        (true, false) => Err(Error::usage(
            command,
            format!(
                "{command} --stdin reads the messages from stdin; remove '{}' from the arguments",
                words.join(" ")
            ),
        )),
        (false, _) => Ok(Source::Words(message(words, default))),
    }
}

/// `emit-log-direct` and `emit-log-topic`: the first word is the routing key (else `default`),
/// the rest the message.
fn keyed_emit(kind: Kind, default: &str, e: Emitting) -> Result<Job, Error> {
    let (key, rest) = e
        .words
        .split_first()
        .map_or((default, &[][..]), |(k, r)| (k.as_str(), r));
    Ok(Job::Emit {
        kind,
        messages: source(e.command, e.stdin, rest, "Hello World!")?,
        envelope: Envelope {
            routing_key: key.to_owned(),
            headers: Vec::new(),
        },
        publish: emit_options(e.confirm, e.retry_for),
        exchange: e.exchange,
    })
}

/// The bindings of a direct or topic receiver: one per key, at least one.
fn keys(command: &'static str, words: &[String], none: &str) -> Result<Vec<Binding>, Error> {
    if words.is_empty() {
        return Err(Error::usage(command, none));
    }
    Ok(words
        .iter()
        .map(|k| Binding {
            key: k.clone(),
            arguments: amiquip::FieldTable::new(),
        })
        .collect())
}

/// Headers set by the user: `KEY=VALUE` pairs.
type Headers = Vec<(String, String)>;

/// Splits `KEY=VALUE... MESSAGE...` words: the leading pairs are headers.
fn split_headers<'w>(
    command: &'static str,
    words: &'w [String],
) -> Result<(Headers, &'w [String]), Error> {
    let mut headers = Vec::new();
    let mut rest = words;
    while let Some((first, tail)) = rest.split_first() {
        match logs::parse_header(first) {
            Some(pair) => headers.push(pair),
            None => break,
        }
        rest = tail;
    }
    check_header_names(command, &headers)?;
    Ok((headers, rest))
}

fn check_header_names(command: &'static str, headers: &[(String, String)]) -> Result<(), Error> {
    match headers.iter().find(|(k, _)| k.starts_with("x-")) {
        Some((k, _)) => Err(Error::usage(
            command,
            format!(
                "header '{k}': names starting with x- are the broker's (use --match for x-match)"
            ),
        )),
        None => Ok(()),
    }
}

/// The binding of `receive-logs-headers`: `--match all|any` and at least one `KEY=VALUE`.
fn headers_binding(match_: &str, words: &[String]) -> Result<Binding, Error> {
    const COMMAND: &str = "receive-logs-headers";
    let any = match match_ {
        "all" => false,
        "any" => true,
        other => {
            return Err(Error::usage(
                COMMAND,
                format!("--match must be all or any, not '{other}'"),
            ));
        }
    };
    if words.is_empty() {
        return Err(Error::usage(
            COMMAND,
            "no header to match: give at least one KEY=VALUE, like format=pdf",
        ));
    }
    let mut pairs = Vec::with_capacity(words.len());
    for w in words {
        match logs::parse_header(w) {
            Some(pair) => pairs.push(pair),
            None => {
                return Err(Error::usage(
                    COMMAND,
                    format!("'{w}' is not a header to match: write KEY=VALUE, like format=pdf"),
                ));
            }
        }
    }
    check_header_names(COMMAND, &pairs)?;
    Ok(logs::headers_binding(&pairs, any))
}

/// `n` if it is at most `max`, else a usage error naming `option`.
fn at_most<T: TryFrom<u64>>(
    command: &'static str,
    option: &str,
    n: u64,
    max: u64,
) -> Result<T, Error> {
    match T::try_from(n) {
        Ok(v) if n <= max => Ok(v),
        _ => Err(Error::usage(
            command,
            format!("{option} must be at most {max}, not {n}"),
        )),
    }
}

fn bench_config(c: &super::args::Bench) -> Result<bench::Config, Error> {
    const COMMAND: &str = "bench";
    let min = bench::HEADER as u64;
    if c.size < min {
        return Err(Error::usage(
            COMMAND,
            format!(
                "--size must be at least {min} (sequence number and timestamp), not {}",
                c.size
            ),
        ));
    }
    Ok(bench::Config {
        messages: at_most(COMMAND, "--messages", c.messages, MAX_MESSAGES)?,
        size: at_most(COMMAND, "--size", c.size, MAX_SIZE)?,
        producers: at_most(COMMAND, "--producers", c.producers, MAX_CONNECTIONS)?,
        consumers: at_most(COMMAND, "--consumers", c.consumers, MAX_CONNECTIONS)?,
        persistent: c.persistent,
        confirm: c.confirm,
        prefetch: at_most(COMMAND, "--prefetch", c.prefetch, u64::from(u16::MAX))?,
        json: c.json,
    })
}

#[cfg(test)]
mod tests;
