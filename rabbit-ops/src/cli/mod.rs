//! The command line, one file per command, as every tool has it: each holds the command's argh
//! struct `Args` (its doc comment is the `--help` text), `check`, its checks into typed options
//! before anything is connected (a failed check is a usage error: `error: <what>` and the
//! command's help line, exit 2), and `run`, which does the command with them. [`run`] picks
//! the command; the binary only parses, calls it, and maps the result to an exit code. A new
//! command is a new file here, a variant of [`Command`] and a line of [`run`].
//!
//! - tutorial 1: [`send`], [`receive`]; 2: [`new_task`], [`worker`]; 3: [`emit_log`],
//!   [`receive_logs`]; 4: [`emit_log_direct`], [`receive_logs_direct`]; 5: [`emit_log_topic`],
//!   [`receive_logs_topic`]; 6: [`rpc_server`], [`rpc_client`]; 7: [`publisher_confirms`];
//!   the headers exchange: [`emit_log_headers`], [`receive_logs_headers`];
//! - beyond the tutorials: [`bench`](mod@bench), [`ping`](mod@ping).
//!
//! What several commands share is written once: [`global`] (the flags before the command, into
//! the [`Broker`](crate::Broker)), [`names`] (AMQP names: at most 255 bytes), [`consumer`]
//! (the consumers' flags: `--count`, `--timeout`...), [`producer`] (the producers' flags and
//! messages), [`values`] (single values: counts, bounds, `--classic`).

pub mod bench;
pub mod emit_log;
pub mod emit_log_direct;
pub mod emit_log_headers;
pub mod emit_log_topic;
pub mod new_task;
pub mod ping;
pub mod publisher_confirms;
pub mod receive;
pub mod receive_logs;
pub mod receive_logs_direct;
pub mod receive_logs_headers;
pub mod receive_logs_topic;
pub mod rpc_client;
pub mod rpc_server;
pub mod send;
pub mod worker;

pub mod consumer;
pub mod global;
pub mod names;
pub mod producer;
pub mod values;

use std::io::Write;
use std::time::Duration;

use argh::FromArgs;
use common::cli::positive_secs;
use common::output::Out;
use common::tls::TlsOptions;

use crate::error::Error;
use global::Global;

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

/// The tutorial programs, in the tutorials' order, then the tools beyond them.
#[derive(FromArgs, Debug)]
#[argh(subcommand)]
#[allow(missing_docs)]
pub enum Command {
    Send(send::Args),
    Receive(receive::Args),
    NewTask(new_task::Args),
    Worker(worker::Args),
    EmitLog(emit_log::Args),
    ReceiveLogs(receive_logs::Args),
    EmitLogDirect(emit_log_direct::Args),
    ReceiveLogsDirect(receive_logs_direct::Args),
    EmitLogTopic(emit_log_topic::Args),
    ReceiveLogsTopic(receive_logs_topic::Args),
    EmitLogHeaders(emit_log_headers::Args),
    ReceiveLogsHeaders(receive_logs_headers::Args),
    RpcServer(rpc_server::Args),
    RpcClient(rpc_client::Args),
    PublisherConfirms(publisher_confirms::Args),
    Bench(bench::Args),
    Ping(ping::Args),
}

/// Runs the command of `args`; `out` gets the program's output lines. Each command checks its
/// own options first (`check`: a mistake is a usage error naming the command), then the
/// broker's URLs and TLS flags are read ([`Global::broker`]), all before any connection; then
/// the command runs (`run`).
pub fn run<W: Write>(args: Args, out: &mut Out<W>) -> Result<(), Error> {
    let tls = TlsOptions {
        cacert: args.cacert,
        cert: args.cert,
        key: args.key,
        insecure: args.insecure,
    };
    let global = &Global::new(&args.url, args.connect_timeout, tls);
    macro_rules! checked {
        ($command:ident, $args:expr) => {
            $command::run($command::check($args)?, &global.broker()?, out)
        };
    }
    match args.command {
        Command::Send(a) => checked!(send, a),
        Command::Receive(a) => checked!(receive, a),
        Command::NewTask(a) => checked!(new_task, a),
        Command::Worker(a) => checked!(worker, a),
        Command::EmitLog(a) => checked!(emit_log, a),
        Command::ReceiveLogs(a) => checked!(receive_logs, a),
        Command::EmitLogDirect(a) => checked!(emit_log_direct, a),
        Command::ReceiveLogsDirect(a) => checked!(receive_logs_direct, a),
        Command::EmitLogTopic(a) => checked!(emit_log_topic, a),
        Command::ReceiveLogsTopic(a) => checked!(receive_logs_topic, a),
        Command::EmitLogHeaders(a) => checked!(emit_log_headers, a),
        Command::ReceiveLogsHeaders(a) => checked!(receive_logs_headers, a),
        Command::RpcServer(a) => checked!(rpc_server, a),
        Command::RpcClient(a) => checked!(rpc_client, a),
        Command::PublisherConfirms(a) => checked!(publisher_confirms, a),
        Command::Bench(a) => checked!(bench, a),
        // Every node, not one broker: its check reads the URLs and TLS flags itself.
        Command::Ping(a) => ping::run(&ping::check(a, global)?, out),
    }
}

/// The log targets that print credentials, shown at `info` at most at every verbosity,
/// `RUST_LOG` included: amiquip's handshake logs `connection.start-ok` at debug level, and its
/// SASL PLAIN response is `"\0user\0password"`.
pub const SECRET_TARGETS: &[&str] = &["amiquip::io_loop::handshake_state"];

/// Logging as every tool sets it up ([`common::logging::init_with`]: every line redacted,
/// whoever logged it), except that amiquip's own log records (it uses the `log` crate) stay
/// quiet below `-vv` unless `RUST_LOG` asks for them: its warnings repeat, in its terms, what our
/// one error line already says. Whatever the flags or `RUST_LOG`, the [`SECRET_TARGETS`] never
/// log below info.
pub fn init_logging(verbose: u8, quiet: bool) {
    let amiquip = match verbose {
        0 | 1 => "amiquip=off",
        2 => "amiquip=info",
        _ => "amiquip=trace",
    };
    common::logging::init_with(
        verbose,
        quiet,
        &common::logging::Quiet {
            defaults: &[amiquip],
            capped: SECRET_TARGETS,
        },
    );
}

/// A library's `thread::spawn` that the system refuses panics; where we catch that panic and
/// report it as one error line (`bench`), its own message must not be printed too.
pub fn quiet_spawn_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if !text.starts_with(crate::bench::SPAWN_PANIC) {
            default(info);
        }
    }));
}

#[cfg(test)]
mod tests;
