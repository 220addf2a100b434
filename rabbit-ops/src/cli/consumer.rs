//! What the consuming commands share: `--count N` and `--timeout SECS` ([`limits`]), and the
//! run until they are reached or Ctrl-C ([`until_stopped`]); the whole of `receive` and
//! `rpc-server` (`queue_consumer!`: a tutorial queue's consumer, [`QueueConsumer`]), and of
//! `receive-logs`, `receive-logs-direct` and `receive-logs-topic` (`receive_logs_command!`: a
//! log exchange's receiver, [`LogReceiver`], as `receive-logs-headers` is too).

use std::io::Write;
use std::time::Duration;

use common::output::Out;

use super::names;
use crate::broker::Broker;
use crate::consume::{Consuming, Ended, Limits};
use crate::error::Error;
use crate::queues::Named;
use crate::stop::Stop;
use crate::tutorials::log_exchange::{self, Binding, Kind};

/// `--count` and `--timeout`.
pub fn limits(count: Option<u64>, timeout: Option<Duration>) -> Limits {
    Limits {
        count,
        idle: timeout,
    }
}

/// A consuming command: runs `consumer` with `limits` until they are reached or Ctrl-C.
pub fn until_stopped(
    broker: &Broker,
    limits: Limits,
    consumer: impl FnOnce(Consuming<'_>) -> Result<Ended, Error>,
) -> Result<(), Error> {
    let stop = Stop::on_signal()?;
    consumer(Consuming {
        broker,
        limits,
        stop: &stop,
    })
    .map(drop)
}

/// `receive` and `rpc-server`, checked: one of the tutorials' queues, consumed until the limits.
#[derive(Debug)]
pub struct QueueConsumer {
    /// `--queue` and `--classic`.
    pub queue: Named,
    /// `--count` and `--timeout`.
    pub limits: Limits,
}

/// `receive` and `rpc-server` are the same command for two tutorials: `--queue` (the
/// tutorial's by default), `--classic`, `--count`, `--timeout`, checked into a
/// [`QueueConsumer`] (`check`), whose queue the tutorial's function consumes (`run`).
macro_rules! queue_consumer {
    (
        $(#[$attr:meta])*
        $name:ident, $queue:tt, $queue_doc:tt, $count_doc:tt, $timeout_doc:tt,
        consumed by $consume:path
    ) => {
        #[derive(argh::FromArgs, Debug)]
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
            #[argh(option, from_str_fn(super::values::positive))]
            pub count: Option<u64>,
            #[doc = $timeout_doc]
            #[argh(option, from_str_fn(common::cli::positive_secs))]
            pub timeout: Option<std::time::Duration>,
        }

        /// The options, checked (the queue's name).
        pub fn check(
            args: $name,
        ) -> Result<$crate::cli::consumer::QueueConsumer, $crate::Error> {
            let command = <$name as argh::SubCommand>::COMMAND.name;
            let generation = $crate::cli::values::generation(args.classic);
            Ok($crate::cli::consumer::QueueConsumer {
                queue: $crate::cli::names::queue(command, args.queue, generation)?,
                limits: $crate::cli::consumer::limits(args.count, args.timeout),
            })
        }

        #[doc = concat!("Consumes the queue until `--count`, `--timeout` or Ctrl-C ([`", stringify!($consume), "`]).")]
        pub fn run(
            consumer: $crate::cli::consumer::QueueConsumer,
            broker: &$crate::Broker,
            out: &mut common::output::Out<impl std::io::Write>,
        ) -> Result<(), $crate::Error> {
            let queue = &consumer.queue;
            $crate::cli::consumer::until_stopped(broker, consumer.limits, |run| {
                $consume(run, queue, out)
            })
        }
    };
}
pub(super) use queue_consumer;

/// A receiver of a log exchange (`receive-logs*`), checked.
#[derive(Debug)]
pub struct LogReceiver {
    /// The exchange's type.
    pub kind: Kind,
    /// `--exchange`.
    pub exchange: String,
    /// How its queue is bound.
    pub bindings: Vec<Binding>,
    /// `--count` and `--timeout`.
    pub limits: Limits,
}

impl LogReceiver {
    /// The options of `command`, checked (the names of the exchange and the binding keys).
    pub fn new(
        command: &'static str,
        kind: Kind,
        exchange: String,
        bindings: Vec<Binding>,
        limits: Limits,
    ) -> Result<Self, Error> {
        let mut names = vec![("--exchange", exchange.as_str())];
        names.extend(bindings.iter().map(|b| ("a binding key", b.key.as_str())));
        names::check(command, &names)?;
        Ok(Self {
            kind,
            exchange,
            bindings,
            limits,
        })
    }

    /// Binds a queue of its own to the exchange, then prints its messages until the limits or
    /// Ctrl-C ([`log_exchange::receive`]).
    pub fn run(self, broker: &Broker, out: &mut Out<impl Write>) -> Result<(), Error> {
        until_stopped(broker, self.limits, |run| {
            log_exchange::receive(run, self.kind, &self.exchange, &self.bindings, out)
        })
    }
}

/// The bindings of a receiver: one per word of `keys` (at least one, else the usage error that
/// `keys` names), or one without a key for a command that takes none (`receive-logs`).
pub fn bindings(
    command: &'static str,
    keys: Option<(&[String], &str)>,
) -> Result<Vec<Binding>, Error> {
    match keys {
        None => Ok(vec![Binding::default()]),
        Some((words, _)) if !words.is_empty() => {
            Ok(words.iter().map(|k| Binding::key(k)).collect())
        }
        Some((_, none)) => Err(Error::usage(command, none)),
    }
}

/// `receive-logs`, `receive-logs-direct` and `receive-logs-topic` are the same command for
/// three exchange types: `--exchange` (the tutorial's by default), `--count`, `--timeout`, then
/// the keys if it takes any (with the usage error when none is given), and the same note;
/// checked into a [`LogReceiver`] (`check`) that `run` runs.
macro_rules! receive_logs_command {
    (
        $(#[$attr:meta])*
        $name:ident, $command:tt, $kind:expr, $exchange:tt, $exchange_doc:tt
        $(, $keys:ident, $keys_doc:tt, $none:tt)?
    ) => {
        #[derive(argh::FromArgs, Debug)]
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
            #[argh(option, from_str_fn(super::values::positive))]
            pub count: Option<u64>,
            /// exit 1 when no message arrives for SECS seconds
            #[argh(option, from_str_fn(common::cli::positive_secs))]
            pub timeout: Option<std::time::Duration>,
            $(
                #[doc = $keys_doc]
                #[argh(positional)]
                pub $keys: Vec<String>,
            )?
        }

        /// The options, checked: the keys (if the command takes any), the names.
        pub fn check(args: $name) -> Result<$crate::cli::consumer::LogReceiver, $crate::Error> {
            let keys: Option<(&[String], &str)> = None $(.or(Some((&args.$keys[..], $none))))?;
            let bindings = $crate::cli::consumer::bindings($command, keys)?;
            $crate::cli::consumer::LogReceiver::new(
                $command,
                $kind,
                args.exchange,
                bindings,
                $crate::cli::consumer::limits(args.count, args.timeout),
            )
        }

        /// Binds a queue of its own to the exchange, then prints its messages until
        /// `--count`, `--timeout` or Ctrl-C.
        pub fn run(
            receiver: $crate::cli::consumer::LogReceiver,
            broker: &$crate::Broker,
            out: &mut common::output::Out<impl std::io::Write>,
        ) -> Result<(), $crate::Error> {
            receiver.run(broker, out)
        }
    };
}
pub(super) use receive_logs_command;
