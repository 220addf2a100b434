//! The command line: `rabbit-ops [--url URL] [--connect-timeout SECS] [-v] <command>`, one
//! subcommand per tutorial program, and [`run`], which dispatches to the library.

use std::io::Write;
use std::time::Duration;

use argh::FromArgs;

use crate::broker::Broker;
use crate::consume::{Limits, Stop};
use crate::error::Error;
use crate::logs::{self, Binding, Envelope, Kind};
use crate::url::DEFAULT_URL;
use crate::{bench, confirms, hello, publish, rpc, work};

/// Every RabbitMQ tutorial as one tool: hello world, work queues, publish/subscribe, routing,
/// topics, RPC, publisher confirms, and a headers exchange. Consumers run until Ctrl-C, or
/// --count N messages (exit 0), or --timeout SECS without a message (exit 1).
#[derive(FromArgs, Debug)]
#[argh(
    example = "Tutorial 1, in two terminals: a receiver, then Hello World!\n$ {command_name} receive\n$ {command_name} send",
    example = "Tutorial 2: two workers share the tasks; each dot is a second of work:\n$ {command_name} worker\n$ {command_name} new-task First message.",
    note = "Exit codes: 0 success, 1 runtime failure (broker unreachable or refusing, timeout, refused RPC), 2 bad usage. `rabbit-ops <command> --help` describes each command. --version prints the version. Guide: docs/rabbit.md."
)]
pub struct Args {
    /// broker URL; repeat it for the nodes of a cluster, tried in turn (default: $AMQP_URL,
    /// which may list several separated by commas, else amqp://guest:guest@127.0.0.1:5672/%2f)
    #[argh(option)]
    pub url: Vec<String>,
    /// seconds allowed for the TCP connection and the AMQP handshake (default 5)
    #[argh(option, default = "Duration::from_secs(5)", from_str_fn(seconds))]
    pub connect_timeout: Duration,
    /// more logs: -v info, -vv debug, -vvv trace
    #[argh(switch, short = 'v')]
    pub verbose: u8,
    /// errors only
    #[argh(switch, short = 'q')]
    pub quiet: bool,
    /// the tutorial program to run
    #[argh(subcommand)]
    pub command: Command,
}

/// The tutorial programs.
#[derive(FromArgs, Debug)]
#[argh(subcommand)]
#[allow(missing_docs)]
pub enum Command {
    Send(Send),
    Receive(Receive),
    NewTask(NewTask),
    Worker(Worker),
    EmitLog(EmitLog),
    ReceiveLogs(ReceiveLogs),
    EmitLogDirect(EmitLogDirect),
    ReceiveLogsDirect(ReceiveLogsDirect),
    EmitLogTopic(EmitLogTopic),
    ReceiveLogsTopic(ReceiveLogsTopic),
    EmitLogHeaders(EmitLogHeaders),
    ReceiveLogsHeaders(ReceiveLogsHeaders),
    RpcServer(RpcServer),
    RpcClient(RpcClient),
    PublisherConfirms(PublisherConfirms),
    Bench(Bench),
}

/// Parses seconds: `5`, `0.5` (more than 0).
pub fn seconds(s: &str) -> Result<Duration, String> {
    common::cli::positive_secs(s)
}

/// Parses milliseconds (0 allowed).
fn millis(s: &str) -> Result<Duration, String> {
    s.parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| format!("expected whole milliseconds, like 1000, not '{s}'"))
}

/// Parses a positive count.
fn positive(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a whole number above 0, not '{s}'")),
    }
}

fn default_str(s: &str) -> String {
    s.to_owned()
}

/// The words of a message, or the default.
fn message(words: &[String], default: &str) -> String {
    if words.is_empty() {
        default.to_owned()
    } else {
        words.join(" ")
    }
}

macro_rules! limits {
    ($s:ident) => {
        Limits {
            count: $s.count,
            idle: $s.timeout,
        }
    };
}

/// Tutorial 1: send 'Hello World!' to the queue hello.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "send")]
pub struct Send {
    /// queue (default hello)
    #[argh(option, default = "default_str(hello::QUEUE)")]
    pub queue: String,
    /// the message (default: Hello World!)
    #[argh(positional, greedy)]
    pub message: Vec<String>,
}

/// Tutorial 1: print the messages of the queue hello.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "receive")]
pub struct Receive {
    /// queue (default hello)
    #[argh(option, default = "default_str(hello::QUEUE)")]
    pub queue: String,
    /// exit 0 after N messages
    #[argh(option, from_str_fn(positive))]
    pub count: Option<u64>,
    /// exit 1 when no message arrives for SECS seconds
    #[argh(option, from_str_fn(seconds))]
    pub timeout: Option<Duration>,
}

/// Tutorial 2: put a persistent task on the durable queue task_queue.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "new-task")]
pub struct NewTask {
    /// queue (default task_queue)
    #[argh(option, default = "default_str(work::QUEUE)")]
    pub queue: String,
    /// declare the queue as a quorum queue (replicated over a cluster's nodes)
    #[argh(switch)]
    pub quorum: bool,
    /// do not wait for publisher confirms (a task lost with the connection goes unnoticed)
    #[argh(switch)]
    pub no_confirm: bool,
    /// read tasks from stdin, one per line, instead of the arguments
    #[argh(switch)]
    pub stdin: bool,
    /// seconds to keep reconnecting and waiting for confirms before giving up (default 60)
    #[argh(option, default = "Duration::from_secs(60)", from_str_fn(seconds))]
    pub retry_for: Duration,
    /// the task; each '.' is a second of work (default: Hello World!)
    #[argh(positional, greedy)]
    pub message: Vec<String>,
}

/// Tutorial 2: take tasks one at a time from task_queue, work, acknowledge.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "worker")]
pub struct Worker {
    /// queue (default task_queue)
    #[argh(option, default = "default_str(work::QUEUE)")]
    pub queue: String,
    /// declare the queue as a quorum queue (as new-task --quorum does)
    #[argh(switch)]
    pub quorum: bool,
    /// milliseconds of work per '.' in a task (default 1000)
    #[argh(option, default = "Duration::from_secs(1)", from_str_fn(millis))]
    pub dot_ms: Duration,
    /// exit 0 after N tasks
    #[argh(option, from_str_fn(positive))]
    pub count: Option<u64>,
    /// exit 1 when no task arrives for SECS seconds
    #[argh(option, from_str_fn(seconds))]
    pub timeout: Option<Duration>,
}

/// Tutorial 3: publish a log message to the fanout exchange logs.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "emit-log")]
pub struct EmitLog {
    /// exchange (default logs)
    #[argh(option, default = "default_str(Kind::Fanout.default_exchange())")]
    pub exchange: String,
    /// wait for publisher confirms: republish what a lost connection left unconfirmed, report
    /// messages no queue takes (exit 1)
    #[argh(switch)]
    pub confirm: bool,
    /// read messages from stdin, one per line, instead of the arguments
    #[argh(switch)]
    pub stdin: bool,
    /// seconds to keep reconnecting and waiting for confirms before giving up (default 60)
    #[argh(option, default = "Duration::from_secs(60)", from_str_fn(seconds))]
    pub retry_for: Duration,
    /// the message (default: info: Hello World!)
    #[argh(positional, greedy)]
    pub message: Vec<String>,
}

/// Tutorial 3: print every message of the fanout exchange logs.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "receive-logs")]
pub struct ReceiveLogs {
    /// exchange (default logs)
    #[argh(option, default = "default_str(Kind::Fanout.default_exchange())")]
    pub exchange: String,
    /// exit 0 after N messages
    #[argh(option, from_str_fn(positive))]
    pub count: Option<u64>,
    /// exit 1 when no message arrives for SECS seconds
    #[argh(option, from_str_fn(seconds))]
    pub timeout: Option<Duration>,
}

/// Tutorial 4: publish a message with a severity to the direct exchange direct_logs.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "emit-log-direct")]
pub struct EmitLogDirect {
    /// exchange (default direct_logs)
    #[argh(option, default = "default_str(Kind::Direct.default_exchange())")]
    pub exchange: String,
    /// wait for publisher confirms: republish what a lost connection left unconfirmed, report
    /// messages no queue takes (exit 1)
    #[argh(switch)]
    pub confirm: bool,
    /// read messages from stdin, one per line, instead of the arguments
    #[argh(switch)]
    pub stdin: bool,
    /// seconds to keep reconnecting and waiting for confirms before giving up (default 60)
    #[argh(option, default = "Duration::from_secs(60)", from_str_fn(seconds))]
    pub retry_for: Duration,
    /// the severity (default info), then the message (default: Hello World!)
    #[argh(positional, greedy)]
    pub words: Vec<String>,
}

/// Tutorial 4: print the messages of the given severities from direct_logs.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "receive-logs-direct")]
pub struct ReceiveLogsDirect {
    /// exchange (default direct_logs)
    #[argh(option, default = "default_str(Kind::Direct.default_exchange())")]
    pub exchange: String,
    /// exit 0 after N messages
    #[argh(option, from_str_fn(positive))]
    pub count: Option<u64>,
    /// exit 1 when no message arrives for SECS seconds
    #[argh(option, from_str_fn(seconds))]
    pub timeout: Option<Duration>,
    /// severities to receive: info, warning, error...
    #[argh(positional)]
    pub severities: Vec<String>,
}

/// Tutorial 5: publish a message with a routing key to the topic exchange topic_logs.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "emit-log-topic")]
pub struct EmitLogTopic {
    /// exchange (default topic_logs)
    #[argh(option, default = "default_str(Kind::Topic.default_exchange())")]
    pub exchange: String,
    /// wait for publisher confirms: republish what a lost connection left unconfirmed, report
    /// messages no queue takes (exit 1)
    #[argh(switch)]
    pub confirm: bool,
    /// read messages from stdin, one per line, instead of the arguments
    #[argh(switch)]
    pub stdin: bool,
    /// seconds to keep reconnecting and waiting for confirms before giving up (default 60)
    #[argh(option, default = "Duration::from_secs(60)", from_str_fn(seconds))]
    pub retry_for: Duration,
    /// the routing key (default anonymous.info), then the message (default: Hello World!)
    #[argh(positional, greedy)]
    pub words: Vec<String>,
}

/// Tutorial 5: print the messages of topic_logs matching the binding keys (* one word, # any).
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "receive-logs-topic")]
pub struct ReceiveLogsTopic {
    /// exchange (default topic_logs)
    #[argh(option, default = "default_str(Kind::Topic.default_exchange())")]
    pub exchange: String,
    /// exit 0 after N messages
    #[argh(option, from_str_fn(positive))]
    pub count: Option<u64>,
    /// exit 1 when no message arrives for SECS seconds
    #[argh(option, from_str_fn(seconds))]
    pub timeout: Option<Duration>,
    /// binding keys, like kern.* or *.critical or #
    #[argh(positional)]
    pub binding_keys: Vec<String>,
}

/// Beyond the tutorials: publish a message with headers to the headers exchange headers_logs.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "emit-log-headers")]
pub struct EmitLogHeaders {
    /// exchange (default headers_logs)
    #[argh(option, default = "default_str(Kind::Headers.default_exchange())")]
    pub exchange: String,
    /// wait for publisher confirms: republish what a lost connection left unconfirmed, report
    /// messages no queue takes (exit 1)
    #[argh(switch)]
    pub confirm: bool,
    /// read messages from stdin, one per line, instead of the arguments
    #[argh(switch)]
    pub stdin: bool,
    /// seconds to keep reconnecting and waiting for confirms before giving up (default 60)
    #[argh(option, default = "Duration::from_secs(60)", from_str_fn(seconds))]
    pub retry_for: Duration,
    /// KEY=VALUE headers, then the message (default: Hello World!)
    #[argh(positional, greedy)]
    pub words: Vec<String>,
}

/// Beyond the tutorials: print the messages of headers_logs whose headers match.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "receive-logs-headers")]
pub struct ReceiveLogsHeaders {
    /// exchange (default headers_logs)
    #[argh(option, default = "default_str(Kind::Headers.default_exchange())")]
    pub exchange: String,
    /// x-match: all (every header must match, the default) or any (one is enough)
    #[argh(option, long = "match", default = "default_str(\"all\")")]
    pub match_: String,
    /// exit 0 after N messages
    #[argh(option, from_str_fn(positive))]
    pub count: Option<u64>,
    /// exit 1 when no message arrives for SECS seconds
    #[argh(option, from_str_fn(seconds))]
    pub timeout: Option<Duration>,
    /// KEY=VALUE headers to match
    #[argh(positional)]
    pub headers: Vec<String>,
}

/// Tutorial 6: answer fib(n) requests from the queue rpc_queue.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "rpc-server")]
pub struct RpcServer {
    /// queue (default rpc_queue)
    #[argh(option, default = "default_str(rpc::QUEUE)")]
    pub queue: String,
    /// exit 0 after N requests
    #[argh(option, from_str_fn(positive))]
    pub count: Option<u64>,
    /// exit 1 when no request arrives for SECS seconds
    #[argh(option, from_str_fn(seconds))]
    pub timeout: Option<Duration>,
}

/// Tutorial 6: ask the rpc-server for fib(N) and print the answer.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "rpc-client")]
pub struct RpcClient {
    /// queue of the server (default rpc_queue)
    #[argh(option, default = "default_str(rpc::QUEUE)")]
    pub queue: String,
    /// seconds to wait for the answers (default 10)
    #[argh(option, default = "Duration::from_secs(10)", from_str_fn(seconds))]
    pub timeout: Duration,
    /// send K requests at once on one connection (default 1)
    #[argh(option, default = "1", from_str_fn(positive))]
    pub concurrency: u64,
    /// n (default 30); sent as given, so a bad one reaches the server (use -- before -1)
    #[argh(positional, default = "default_str(\"30\")")]
    pub n: String,
}

/// Tutorial 7: publish with confirms three ways (individually, in batches, asynchronously).
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "publisher-confirms")]
pub struct PublisherConfirms {
    /// messages per strategy (default 10000)
    #[argh(option, default = "confirms::MESSAGES", from_str_fn(positive))]
    pub messages: u64,
    /// publish into this queue (kept) instead of a temporary queue per strategy
    #[argh(option)]
    pub queue: Option<String>,
    /// seconds to wait for outstanding confirms (default 60)
    #[argh(option, default = "Duration::from_secs(60)", from_str_fn(seconds))]
    pub timeout: Duration,
}

/// Beyond the tutorials: measure publish and consume rates and end-to-end latency.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "bench")]
pub struct Bench {
    /// messages in all (default 100000)
    #[argh(option, default = "100_000", from_str_fn(positive))]
    pub messages: u64,
    /// bytes per message, at least 16 (default 100)
    #[argh(option, default = "100", from_str_fn(positive))]
    pub size: u64,
    /// publishing connections (default 1)
    #[argh(option, default = "1", from_str_fn(positive))]
    pub producers: u64,
    /// consuming connections (default 1)
    #[argh(option, default = "1", from_str_fn(positive))]
    pub consumers: u64,
    /// persistent messages on a durable queue
    #[argh(switch)]
    pub persistent: bool,
    /// publisher confirms (every message confirmed before the publish rate is taken)
    #[argh(switch)]
    pub confirm: bool,
    /// unacknowledged messages per consumer (default 500)
    #[argh(option, default = "500", from_str_fn(positive))]
    pub prefetch: u64,
    /// print one JSON object instead of lines
    #[argh(switch)]
    pub json: bool,
}

/// Logging as `common::logging::init` sets it up, except that amiquip's own log records (it
/// uses the `log` crate) stay quiet below `-vv` unless `RUST_LOG` asks for them: its warnings
/// repeat, in its terms, what our one error line already says.
pub fn init_logging(verbose: u8, quiet: bool) {
    let amiquip = match verbose {
        0 | 1 => "amiquip=off",
        2 => "amiquip=info",
        _ => "amiquip=trace",
    };
    common::logging::init_with(verbose, quiet, &[amiquip]);
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

/// The messages to publish: stdin's lines with `--stdin`, else the one from the arguments.
fn messages(
    stdin: bool,
    words: &[String],
    default: &str,
) -> Box<dyn Iterator<Item = Result<String, Error>>> {
    if stdin {
        Box::new(
            std::io::stdin()
                .lines()
                .map(|l| l.map_err(Error::Input))
                .filter(|l| !matches!(l, Ok(l) if l.is_empty())),
        )
    } else {
        Box::new(std::iter::once(Ok(message(words, default))))
    }
}

/// `--stdin` takes the messages from stdin: words that would be a message are a mistake.
fn stdin_conflict(command: &str, stdin: bool, message_words: &[String]) -> Result<(), Error> {
    if stdin && !message_words.is_empty() {
        return Err(usage(&format!(
            "error: {command} --stdin reads the messages from stdin; remove '{}' from the \
             arguments",
            message_words.join(" ")
        )));
    }
    Ok(())
}

/// The first word (a severity or routing key, else `default`) and the rest.
fn split_key<'w>(words: &'w [String], default: &'w str) -> (&'w str, &'w [String]) {
    words
        .split_first()
        .map_or((default, &[][..]), |(s, r)| (s.as_str(), r))
}

fn usage(line: &str) -> Error {
    Error::Usage(line.to_owned())
}

/// Splits `KEY=VALUE... MESSAGE...` words: the leading pairs are headers.
type Headers = Vec<(String, String)>;

fn split_headers(words: &[String]) -> Result<(Headers, &[String]), Error> {
    let mut headers = Vec::new();
    let mut rest = words;
    while let Some((first, tail)) = rest.split_first() {
        match logs::parse_header(first) {
            Some(pair) => headers.push(pair),
            None => break,
        }
        rest = tail;
    }
    check_header_names(&headers)?;
    Ok((headers, rest))
}

fn check_header_names(headers: &[(String, String)]) -> Result<(), Error> {
    match headers.iter().find(|(k, _)| k.starts_with("x-")) {
        Some((k, _)) => Err(usage(&format!(
            "error: header '{k}': names starting with x- are the broker's (use --match for \
             x-match)"
        ))),
        None => Ok(()),
    }
}

/// Checks what argh cannot, so that usage errors come before any connection attempt.
pub fn validate(command: &Command) -> Result<(), Error> {
    match command {
        Command::ReceiveLogsDirect(c) if c.severities.is_empty() => Err(usage(
            "Usage: rabbit-ops receive-logs-direct [info] [warning] [error]",
        )),
        Command::ReceiveLogsTopic(c) if c.binding_keys.is_empty() => Err(usage(
            "Usage: rabbit-ops receive-logs-topic [binding_key]...",
        )),
        Command::ReceiveLogsHeaders(c) => {
            const LINE: &str =
                "Usage: rabbit-ops receive-logs-headers [--match all|any] KEY=VALUE...";
            if c.match_ != "all" && c.match_ != "any" {
                return Err(usage(&format!(
                    "error: --match must be all or any, not '{}'\n{LINE}",
                    c.match_
                )));
            }
            let pairs: Option<Vec<_>> = c.headers.iter().map(|w| logs::parse_header(w)).collect();
            match pairs {
                Some(p) if !p.is_empty() => check_header_names(&p),
                _ => Err(usage(LINE)),
            }
        }
        Command::EmitLogHeaders(c) => {
            let (_, rest) = split_headers(&c.words)?;
            stdin_conflict("emit-log-headers", c.stdin, rest)
        }
        Command::NewTask(c) => stdin_conflict("new-task", c.stdin, &c.message),
        Command::EmitLog(c) => stdin_conflict("emit-log", c.stdin, &c.message),
        Command::EmitLogDirect(c) => {
            stdin_conflict("emit-log-direct", c.stdin, split_key(&c.words, "info").1)
        }
        Command::EmitLogTopic(c) => stdin_conflict(
            "emit-log-topic",
            c.stdin,
            split_key(&c.words, "anonymous.info").1,
        ),
        _ => Ok(()),
    }
}

/// Runs a command; `out` gets the program's output lines.
pub fn run(args: Args, out: &mut dyn Write) -> Result<(), Error> {
    validate(&args.command)?;
    let broker = Broker::with_urls(&broker_urls(&args.url), args.connect_timeout)?;
    let b = &broker;
    let emit_options = |confirm: bool, retry_for: Duration| publish::Options { confirm, retry_for };
    match args.command {
        Command::Send(c) => hello::send(b, &c.queue, &message(&c.message, hello::MESSAGE), out),
        Command::Receive(c) => {
            let stop = Stop::on_signal()?;
            hello::receive(b, &c.queue, limits!(c), &stop, out).map(drop)
        }
        Command::NewTask(c) => {
            let tasks = messages(c.stdin, &c.message, work::MESSAGE);
            let options = emit_options(!c.no_confirm, c.retry_for);
            work::new_task(b, &c.queue, c.quorum, options, tasks, out).map(drop)
        }
        Command::Worker(c) => {
            let stop = Stop::on_signal()?;
            work::worker(b, &c.queue, c.quorum, c.dot_ms, limits!(c), &stop, out).map(drop)
        }
        Command::EmitLog(c) => {
            let msgs = messages(c.stdin, &c.message, "info: Hello World!");
            let options = emit_options(c.confirm, c.retry_for);
            let envelope = Envelope::default();
            logs::emit(b, Kind::Fanout, &c.exchange, &envelope, options, msgs, out).map(drop)
        }
        Command::ReceiveLogs(c) => {
            let stop = Stop::on_signal()?;
            let bindings = [Binding::default()];
            logs::receive(
                b,
                Kind::Fanout,
                &c.exchange,
                &bindings,
                limits!(c),
                &stop,
                out,
            )
            .map(drop)
        }
        Command::EmitLogDirect(c) => {
            let (severity, rest) = split_key(&c.words, "info");
            let envelope = Envelope {
                routing_key: severity.to_owned(),
                headers: Vec::new(),
            };
            let msgs = messages(c.stdin, rest, "Hello World!");
            let options = emit_options(c.confirm, c.retry_for);
            logs::emit(b, Kind::Direct, &c.exchange, &envelope, options, msgs, out).map(drop)
        }
        Command::ReceiveLogsDirect(c) => {
            let stop = Stop::on_signal()?;
            let bindings = keys(&c.severities);
            logs::receive(
                b,
                Kind::Direct,
                &c.exchange,
                &bindings,
                limits!(c),
                &stop,
                out,
            )
            .map(drop)
        }
        Command::EmitLogTopic(c) => {
            let (key, rest) = split_key(&c.words, "anonymous.info");
            let envelope = Envelope {
                routing_key: key.to_owned(),
                headers: Vec::new(),
            };
            let msgs = messages(c.stdin, rest, "Hello World!");
            let options = emit_options(c.confirm, c.retry_for);
            logs::emit(b, Kind::Topic, &c.exchange, &envelope, options, msgs, out).map(drop)
        }
        Command::ReceiveLogsTopic(c) => {
            let stop = Stop::on_signal()?;
            let bindings = keys(&c.binding_keys);
            logs::receive(
                b,
                Kind::Topic,
                &c.exchange,
                &bindings,
                limits!(c),
                &stop,
                out,
            )
            .map(drop)
        }
        Command::EmitLogHeaders(c) => {
            let (headers, rest) = split_headers(&c.words)?;
            let envelope = Envelope {
                routing_key: String::new(),
                headers,
            };
            let msgs = messages(c.stdin, rest, "Hello World!");
            let options = emit_options(c.confirm, c.retry_for);
            logs::emit(b, Kind::Headers, &c.exchange, &envelope, options, msgs, out).map(drop)
        }
        Command::ReceiveLogsHeaders(c) => {
            let stop = Stop::on_signal()?;
            let pairs: Vec<_> = c
                .headers
                .iter()
                .filter_map(|w| logs::parse_header(w))
                .collect();
            let bindings = [logs::headers_binding(&pairs, c.match_ == "any")];
            logs::receive(
                b,
                Kind::Headers,
                &c.exchange,
                &bindings,
                limits!(c),
                &stop,
                out,
            )
            .map(drop)
        }
        Command::RpcServer(c) => {
            let stop = Stop::on_signal()?;
            rpc::server(b, &c.queue, limits!(c), &stop, out).map(drop)
        }
        Command::RpcClient(c) => {
            let k = usize::try_from(c.concurrency).unwrap_or(usize::MAX);
            rpc::client(b, &c.queue, &c.n, k, c.timeout, out).map(drop)
        }
        Command::PublisherConfirms(c) => {
            confirms::run(b, c.messages, c.queue.as_deref(), c.timeout, out).map(drop)
        }
        Command::Bench(c) => bench::run(b, &c.into(), out).map(drop),
    }
}

fn keys(words: &[String]) -> Vec<Binding> {
    words
        .iter()
        .map(|k| Binding {
            key: k.clone(),
            arguments: amiquip::FieldTable::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::cli::{Parsed, parse_from};
    use std::ffi::OsString;

    fn parse(args: &[&str]) -> Parsed<Args> {
        let args: Vec<OsString> = std::iter::once("rabbit-ops")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        parse_from(&args, "0")
    }

    fn command(args: &[&str]) -> Command {
        match parse(args) {
            Parsed::Run(a) => a.command,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn seconds_and_counts() {
        assert_eq!(seconds("5"), Ok(Duration::from_secs(5)));
        assert_eq!(seconds("0.25"), Ok(Duration::from_millis(250)));
        for bad in ["0", "-1", "x", "inf", "NaN", ""] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
        assert_eq!(positive("3"), Ok(3));
        assert!(positive("0").is_err());
        assert!(matches!(
            parse(&["receive", "--count", "0"]),
            Parsed::Usage(_)
        ));
        assert!(matches!(
            parse(&["--connect-timeout", "0", "send"]),
            Parsed::Usage(_)
        ));
    }

    #[test]
    fn messages_default_like_the_tutorials() {
        let Command::Send(c) = command(&["send"]) else {
            panic!()
        };
        assert_eq!(message(&c.message, hello::MESSAGE), "Hello World!");
        let Command::NewTask(c) = command(&["new-task", "First", "message."]) else {
            panic!()
        };
        assert_eq!(message(&c.message, work::MESSAGE), "First message.");
        assert_eq!(c.queue, "task_queue");
        let Command::RpcClient(c) = command(&["rpc-client"]) else {
            panic!()
        };
        assert_eq!(
            (c.n.as_str(), c.concurrency, c.timeout),
            ("30", 1, Duration::from_secs(10))
        );
        let Command::RpcClient(c) = command(&["rpc-client", "--", "-1"]) else {
            panic!()
        };
        assert_eq!(c.n, "-1");
    }

    #[test]
    fn missing_binding_keys_are_usage_errors() {
        let cases = [
            (
                vec!["receive-logs-direct"],
                "Usage: rabbit-ops receive-logs-direct [info] [warning] [error]",
            ),
            (
                vec!["receive-logs-topic"],
                "Usage: rabbit-ops receive-logs-topic [binding_key]...",
            ),
            (
                vec!["receive-logs-headers", "plain"],
                "Usage: rabbit-ops receive-logs-headers [--match all|any] KEY=VALUE...",
            ),
        ];
        for (args, line) in cases {
            let e = validate(&command(&args)).unwrap_err();
            assert_eq!(e.to_string(), line);
            assert_eq!(common::exit::ExitStatus::exit_code(&e), 2);
        }
        assert!(
            validate(&command(&[
                "receive-logs-headers",
                "--match",
                "some",
                "a=b"
            ]))
            .is_err()
        );
        assert!(validate(&command(&["receive-logs-headers", "x-match=any"])).is_err());
        assert!(validate(&command(&["receive-logs-headers", "--match", "any", "a=b"])).is_ok());
    }

    #[test]
    fn leading_pairs_are_headers() {
        let words: Vec<String> = ["format=pdf", "type=report", "a", "b=c"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let (h, rest) = split_headers(&words).unwrap();
        assert_eq!(
            h,
            [
                ("format".into(), "pdf".into()),
                ("type".into(), "report".into())
            ]
        );
        assert_eq!(rest, ["a", "b=c"]);
    }
}
