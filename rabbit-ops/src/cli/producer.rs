//! What the producing commands share: where their messages come from ([`Source`]: the words of
//! the command line, else the tutorial's message, or stdin with `--stdin`), and the flags,
//! checks and run of the `emit-log*` commands (`emit_command!`, into an [`Emitter`]).

use std::io::Write;
use std::time::Duration;

use common::output::Out;

use super::names;
use crate::broker::Broker;
use crate::error::Error;
use crate::publish::{self, Messages};
use crate::tutorials::log_exchange::{self, Envelope, Kind};

/// Where a producer's messages come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The one message of the command line.
    Words(String),
    /// stdin, one message per line (`--stdin`).
    Stdin,
}

impl Source {
    /// The messages (stdin is read from now on).
    pub fn messages(self) -> Messages {
        match self {
            Source::Words(text) => Messages::one(text),
            Source::Stdin => Messages::stdin(),
        }
    }
}

/// The words of a message, or the default.
pub fn message(words: &[String], default: &str) -> String {
    if words.is_empty() {
        default.to_owned()
    } else {
        words.join(" ")
    }
}

/// The messages of a producer: stdin with `--stdin` (then words that would be a message are a
/// mistake), else the words, else the default.
pub fn source(
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

/// The `emit-log*` commands share their options: `--exchange` (the tutorial's exchange by
/// default), `--confirm`, `--stdin`, `--retry-for`, then the words; `emitting()` gathers them
/// into [`Emitting`].
macro_rules! emit_command {
    (
        $(#[$attr:meta])*
        $name:ident, $exchange:tt, $exchange_doc:tt,
        $words:ident, $words_doc:tt
    ) => {
        #[derive(argh::FromArgs, Debug)]
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
                default = "std::time::Duration::from_secs(60)",
                from_str_fn(common::cli::positive_secs)
            )]
            pub retry_for: std::time::Duration,
            #[doc = $words_doc]
            #[argh(positional, greedy)]
            pub $words: Vec<String>,
        }

        impl $name {
            /// Its options, whatever the command.
            pub fn emitting(self) -> $crate::cli::producer::Emitting {
                $crate::cli::producer::Emitting {
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
pub(super) use emit_command;

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

impl Emitting {
    /// `emit-log-direct` and `emit-log-topic`: the first word is the routing key (else `key`),
    /// the rest the message (else `message`).
    pub fn keyed(self, kind: Kind, key: &str, message: &str) -> Result<Emitter, Error> {
        let (key, rest) = self
            .words
            .split_first()
            .map_or((key, &[][..]), |(k, r)| (k.as_str(), r));
        let messages = source(self.command, self.stdin, rest, message)?;
        let envelope = Envelope {
            routing_key: key.to_owned(),
            headers: Vec::new(),
        };
        self.emitter(kind, envelope, messages)
    }

    /// The emitter of an exchange of type `kind`: `envelope` and `messages`, the names of the
    /// exchange and the routing key checked.
    pub fn emitter(
        self,
        kind: Kind,
        envelope: Envelope,
        messages: Source,
    ) -> Result<Emitter, Error> {
        names::check(
            self.command,
            &[
                ("--exchange", &self.exchange),
                ("the routing key", &envelope.routing_key),
            ],
        )?;
        Ok(Emitter {
            kind,
            exchange: self.exchange,
            envelope,
            publish: publish::Options {
                confirm: self.confirm,
                retry_for: self.retry_for,
            },
            messages,
        })
    }
}

/// An `emit-log*` command, checked.
#[derive(Debug)]
pub struct Emitter {
    /// The exchange's type.
    pub kind: Kind,
    /// `--exchange`.
    pub exchange: String,
    /// The routing key and headers.
    pub envelope: Envelope,
    /// `--confirm` and `--retry-for`.
    pub publish: publish::Options,
    /// The messages.
    pub messages: Source,
}

impl Emitter {
    /// Declares the exchange and publishes each message ([`log_exchange::emit`]).
    pub fn run(self, broker: &Broker, out: &mut Out<impl Write>) -> Result<(), Error> {
        let messages = self.messages.messages();
        log_exchange::emit(
            broker,
            self.kind,
            &self.exchange,
            &self.envelope,
            self.publish,
            messages,
            out,
        )
        .map(drop)
    }
}
