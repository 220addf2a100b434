//! The argh structs: `rabbit-ops [--url URL]... [--connect-timeout SECS] [-v] <command>`, one
//! subcommand per tutorial program. Nothing here is checked beyond what argh and the parsers
//! below do: the `validate` module next to this one turns them into the library's options.

use std::time::Duration;

use argh::FromArgs;
use common::cli::positive_secs;

pub use super::beyond::{Bench, Ping, PublisherConfirms};
pub use super::offset_tracking_receive::OffsetTrackingReceive;
pub use super::offset_tracking_send::OffsetTrackingSend;
pub use super::stream_receive::StreamReceive;
pub use super::stream_send::StreamSend;
use crate::logs::Kind;
use crate::{hello, rpc, work};

/// Every RabbitMQ tutorial as one tool: hello world, work queues, publish/subscribe, routing,
/// topics, RPC, publisher confirms, and a headers exchange. Consumers run until Ctrl-C, or
/// --count N messages (exit 0), or --timeout SECS without a message (exit 1).
#[derive(FromArgs, Debug)]
#[argh(
    example = "Tutorial 1, in two terminals: a receiver, then Hello World!\n$ {command_name} receive\n$ {command_name} send",
    example = "Tutorial 2: two workers share the tasks; each dot is a second of work:\n$ {command_name} worker\n$ {command_name} new-task First message.",
    example = "Over TLS (amqps://, port 5671 by default), trusting a private CA:\n$ {command_name} --url amqps://guest:guest@127.0.0.1:5671/%2f --cacert target/tls/ca.pem ping",
    note = "Exit codes: 0 success, 1 runtime failure (broker unreachable or refusing, timeout, refused RPC), 2 bad usage, 130 interrupted by SIGINT/SIGTERM (bench, rpc-client, ping --wait: what was done so far is said). `rabbit-ops <command> --help` describes each command. --version prints the version. Guide: docs/rabbit.md. The tutorial commands declare what today's official programs declare (hello, task_queue, rpc_queue: durable quorum queues; --classic for the previous generation); where a command deliberately differs from its official program, its --help says so."
)]
pub struct Args {
    /// broker URL; repeat it for the nodes of a cluster, tried in turn (default: $AMQP_URL,
    /// which may list several separated by commas, else amqp://guest:guest@127.0.0.1:5672/%2f)
    #[argh(option)]
    pub url: Vec<String>,
    /// seconds allowed for the TCP connection and the AMQP handshake (default 5)
    #[argh(option, default = "Duration::from_secs(5)", from_str_fn(positive_secs))]
    pub connect_timeout: Duration,
    /// amqps://: trust the CA certificates of FILE (PEM) instead of the system's
    #[argh(option)]
    pub cacert: Option<std::path::PathBuf>,
    /// amqps://: present the client certificate of FILE (PEM), with --key
    #[argh(option)]
    pub cert: Option<std::path::PathBuf>,
    /// amqps://: the private key (PEM) of the --cert certificate
    #[argh(option)]
    pub key: Option<std::path::PathBuf>,
    /// amqps://: accept any server certificate and name (says so on stderr)
    #[argh(switch)]
    pub insecure: bool,
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
    Ping(Ping),
    StreamSend(StreamSend),
    StreamReceive(StreamReceive),
    OffsetTrackingSend(OffsetTrackingSend),
    OffsetTrackingReceive(OffsetTrackingReceive),
}

/// Tutorial 1: send 'Hello World!' to the queue hello (a durable quorum queue).
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "send")]
pub struct Send {
    /// queue (default hello)
    #[argh(option, default = "default_str(hello::QUEUE)")]
    pub queue: String,
    /// declare the queue as the tutorials did before 2026 (classic, not quorum): for brokers
    /// without quorum queues or a queue left by an older run
    #[argh(switch)]
    pub classic: bool,
    /// the message (default: Hello World!)
    #[argh(positional, greedy)]
    pub message: Vec<String>,
}

/// `receive` and `rpc-server` share their options: `--queue` (the tutorial's by default),
/// `--classic`, `--count`, `--timeout`.
macro_rules! queue_consumer {
    (
        $(#[$attr:meta])*
        $name:ident, $queue:tt, $queue_doc:tt, $count_doc:tt, $timeout_doc:tt
    ) => {
        #[derive(FromArgs, Debug)]
        $(#[$attr])*
        pub struct $name {
            #[doc = $queue_doc]
            #[argh(option, default = $queue)]
            pub queue: String,
            /// declare the queue as the tutorials did before 2026 (classic, not quorum): for
            /// brokers without quorum queues or a queue left by an older run
            #[argh(switch)]
            pub classic: bool,
            #[doc = $count_doc]
            #[argh(option, from_str_fn(positive))]
            pub count: Option<u64>,
            #[doc = $timeout_doc]
            #[argh(option, from_str_fn(positive_secs))]
            pub timeout: Option<Duration>,
        }
    };
}

queue_consumer! {
    /// Tutorial 1: print the messages of the queue hello.
    #[argh(
        subcommand,
        name = "receive",
        note = "Differs from today's receive.py: each message is acknowledged after it is printed (automatic acks there), so --count and a closed stdout lose nothing; Ctrl-C prints nothing (receive.py prints Interrupted). --classic: the queue as declared before 2026 (classic, non-durable)."
    )]
    Receive,
    "default_str(hello::QUEUE)",
    " queue (default hello)",
    " exit 0 after N messages",
    " exit 1 when no message arrives for SECS seconds"
}

/// Tutorial 2: put a persistent task on the durable quorum queue task_queue.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "new-task",
    note = "Differs from the official new_task.py: each task is confirmed by the broker (publisher confirms, mandatory, a message_id per message); --no-confirm publishes as new_task.py does. --classic: the queue as declared before 2026 (classic, durable)."
)]
#[allow(clippy::struct_excessive_bools)] // one per switch
pub struct NewTask {
    /// queue (default task_queue)
    #[argh(option, default = "default_str(work::QUEUE)")]
    pub queue: String,
    /// a quorum queue: the default (kept for scripts written before it was)
    #[argh(switch)]
    pub quorum: bool,
    /// declare the queue as the tutorials did before 2026 (classic, not quorum): for brokers
    /// without quorum queues or a queue left by an older run
    #[argh(switch)]
    pub classic: bool,
    /// do not wait for publisher confirms (a task lost with the connection goes unnoticed)
    #[argh(switch)]
    pub no_confirm: bool,
    /// read tasks from stdin, one per line, instead of the arguments
    #[argh(switch)]
    pub stdin: bool,
    /// seconds to keep reconnecting and waiting for confirms before giving up (default 60)
    #[argh(
        option,
        default = "Duration::from_secs(60)",
        from_str_fn(positive_secs)
    )]
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
    /// a quorum queue: the default (kept for scripts written before it was)
    #[argh(switch)]
    pub quorum: bool,
    /// declare the queue as the tutorials did before 2026 (classic, not quorum): for brokers
    /// without quorum queues or a queue left by an older run
    #[argh(switch)]
    pub classic: bool,
    /// milliseconds of work per '.' in a task (default 1000)
    #[argh(option, default = "Duration::from_secs(1)", from_str_fn(millis))]
    pub dot_ms: Duration,
    /// exit 0 after N tasks
    #[argh(option, from_str_fn(positive))]
    pub count: Option<u64>,
    /// exit 1 when no task arrives for SECS seconds
    #[argh(option, from_str_fn(positive_secs))]
    pub timeout: Option<Duration>,
}

/// The `emit-log*` commands share their options: `--exchange` (the kind's exchange by default),
/// `--confirm`, `--stdin`, `--retry-for`, then the words.
macro_rules! emit_command {
    (
        $(#[$attr:meta])*
        $name:ident, $exchange:tt, $exchange_doc:tt,
        $words:ident, $words_doc:tt
    ) => {
        #[derive(FromArgs, Debug)]
        $(#[$attr])*
        pub struct $name {
            #[doc = $exchange_doc]
            #[argh(option, default = $exchange)]
            pub exchange: String,
            /// wait for publisher confirms: republish what a lost connection left unconfirmed,
            /// report messages no queue takes (exit 1)
            #[argh(switch)]
            pub confirm: bool,
            /// read messages from stdin, one per line, instead of the arguments
            #[argh(switch)]
            pub stdin: bool,
            /// seconds to keep reconnecting and waiting for confirms before giving up (default 60)
            #[argh(
                option,
                default = "Duration::from_secs(60)",
                from_str_fn(positive_secs)
            )]
            pub retry_for: Duration,
            #[doc = $words_doc]
            #[argh(positional, greedy)]
            pub $words: Vec<String>,
        }

        impl $name {
            /// Its options, whatever the command.
            pub fn emitting(self) -> Emitting {
                Emitting {
                    command: <Self as argh::SubCommand>::COMMAND.name,
                    exchange: self.exchange,
                    confirm: self.confirm,
                    stdin: self.stdin,
                    retry_for: self.retry_for,
                    words: self.$words,
                }
            }
        }
    };
}

/// The options every `emit-log*` command has.
#[derive(Debug)]
pub struct Emitting {
    /// The subcommand (`emit-log-direct`...).
    pub command: &'static str,
    /// `--exchange`.
    pub exchange: String,
    /// `--confirm`.
    pub confirm: bool,
    /// `--stdin`.
    pub stdin: bool,
    /// `--retry-for`.
    pub retry_for: Duration,
    /// The words after the options.
    pub words: Vec<String>,
}

emit_command! {
    /// Tutorial 3: publish a log message to the fanout exchange logs.
    #[argh(subcommand, name = "emit-log")]
    EmitLog,
    "default_str(Kind::Fanout.default_exchange())",
    " exchange (default logs)",
    message, " the message (default: info: Hello World!)"
}

/// `receive-logs`, `receive-logs-direct` and `receive-logs-topic` share their options and note:
/// `--exchange` (the kind's exchange by default), `--count`, `--timeout`, then the keys if any.
macro_rules! receive_logs_command {
    (
        $(#[$attr:meta])*
        $name:ident, $command:tt, $exchange:tt, $exchange_doc:tt
        $(, $keys:ident, $keys_doc:tt)?
    ) => {
        #[derive(FromArgs, Debug)]
        $(#[$attr])*
        #[argh(
            subcommand,
            name = $command,
            note = "Differs from the official receive_logs*.py: the body is printed as text (info: Hello World!), not as Python's bytes repr (b'info: Hello World!'); each message is acknowledged after it is printed (automatic acks there), so --count and a closed stdout lose nothing."
        )]
        pub struct $name {
            #[doc = $exchange_doc]
            #[argh(option, default = $exchange)]
            pub exchange: String,
            /// exit 0 after N messages
            #[argh(option, from_str_fn(positive))]
            pub count: Option<u64>,
            /// exit 1 when no message arrives for SECS seconds
            #[argh(option, from_str_fn(positive_secs))]
            pub timeout: Option<Duration>,
            $(
                #[doc = $keys_doc]
                #[argh(positional)]
                pub $keys: Vec<String>,
            )?
        }
    };
}

receive_logs_command! {
    /// Tutorial 3: print every message of the fanout exchange logs.
    ReceiveLogs,
    "receive-logs",
    "default_str(Kind::Fanout.default_exchange())",
    " exchange (default logs)"
}

emit_command! {
    /// Tutorial 4: publish a message with a severity to the direct exchange direct_logs.
    #[argh(subcommand, name = "emit-log-direct")]
    EmitLogDirect,
    "default_str(Kind::Direct.default_exchange())",
    " exchange (default direct_logs)",
    words, " the severity (default info), then the message (default: Hello World!)"
}

receive_logs_command! {
    /// Tutorial 4: print the messages of the given severities from direct_logs.
    ReceiveLogsDirect,
    "receive-logs-direct",
    "default_str(Kind::Direct.default_exchange())",
    " exchange (default direct_logs)",
    severities,
    " severities to receive: info, warning, error..."
}

emit_command! {
    /// Tutorial 5: publish a message with a routing key to the topic exchange topic_logs.
    #[argh(
        subcommand,
        name = "emit-log-topic",
        note = "Differs from the official emit_log_topic.py: a lone argument is the routing key (emit_log_topic.py ignores it and sends anonymous.info)."
    )]
    EmitLogTopic,
    "default_str(Kind::Topic.default_exchange())",
    " exchange (default topic_logs)",
    words,
    " the routing key (default anonymous.info), then the message (default: Hello World!)"
}

receive_logs_command! {
    /// Tutorial 5: print the messages of topic_logs matching the binding keys (* one word, # any).
    ReceiveLogsTopic,
    "receive-logs-topic",
    "default_str(Kind::Topic.default_exchange())",
    " exchange (default topic_logs)",
    binding_keys,
    " binding keys, like kern.* or *.critical or #"
}

emit_command! {
    /// Beyond the tutorials: publish a message with headers to the headers exchange headers_logs.
    #[argh(subcommand, name = "emit-log-headers")]
    EmitLogHeaders,
    "default_str(Kind::Headers.default_exchange())",
    " exchange (default headers_logs)",
    words, " KEY=VALUE headers, then the message (default: Hello World!)"
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
    #[argh(option, from_str_fn(positive_secs))]
    pub timeout: Option<Duration>,
    /// KEY=VALUE headers to match
    #[argh(positional)]
    pub headers: Vec<String>,
}

queue_consumer! {
    /// Tutorial 6: answer fib(n) requests from the queue rpc_queue.
    #[argh(
        subcommand,
        name = "rpc-server",
        note = "Differs from the official rpc_server.py: fib is computed iteratively in arbitrary precision, for n up to 20000 (4,180 digits); a request it cannot serve (not a whole number, negative, over 20000) is answered 'error: <why>' instead of crashing the server."
    )]
    RpcServer,
    "default_str(rpc::QUEUE)",
    " queue (default rpc_queue)",
    " exit 0 after N requests",
    " exit 1 when no request arrives for SECS seconds"
}

/// Tutorial 6: ask the rpc-server for fib(N) and print the answer.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "rpc-client",
    note = "Differs from the official rpc_client.py: it asks fib(N) (rpc_client.py always asks fib(30)); a refusal ('error: ...') or an answer that is not an integer is an error line, exit 1 (rpc_client.py crashes with a traceback)."
)]
pub struct RpcClient {
    /// queue of the server (default rpc_queue)
    #[argh(option, default = "default_str(rpc::QUEUE)")]
    pub queue: String,
    /// seconds to wait for the answers (default 10)
    #[argh(
        option,
        default = "Duration::from_secs(10)",
        from_str_fn(positive_secs)
    )]
    pub timeout: Duration,
    /// send K requests at once on one connection (default 1, at most 100000)
    #[argh(option, default = "1", from_str_fn(positive))]
    pub concurrency: u64,
    /// n (default 30); sent as given, so a bad one reaches the server (use -- before -1)
    #[argh(positional, default = "default_str(\"30\")")]
    pub n: String,
}

/// Parses milliseconds (0 allowed).
fn millis(s: &str) -> Result<Duration, String> {
    s.parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| format!("expected whole milliseconds, like 1000, not '{s}'"))
}

/// Parses a positive count.
pub(super) fn positive(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a whole number above 0, not '{s}'")),
    }
}

fn default_str(s: &str) -> String {
    s.to_owned()
}
