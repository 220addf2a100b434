//! The tutorials' named queues (`hello`, `task_queue`, `rpc_queue`), declared as today's
//! official tutorials declare them, or as the previous generation did (`--classic`).
//!
//! Today (rabbitmq-tutorials, `python/`, since March 2026) all three are durable quorum queues
//! (`x-queue-type: quorum`). Before, they were classic queues: `hello` and `rpc_queue`
//! non-durable, `task_queue` durable. RabbitMQ refuses to declare a queue again with other
//! arguments (PRECONDITION_FAILED), so both sides of a tutorial must agree: when they do not,
//! [`declare`] says which queue exists as what, and what to do, on one line.
//!
//! [`receive`] is the consumer of tutorials 1 and 2: ` [x] Received <body>` for each message.

use std::io::Write;

use amiquip::{AmqpValue, Channel, FieldTable, Queue, QueueDeclareOptions};
use common::output::Out;

use crate::broker::declare_queue_error;
use crate::consume::{Consuming, Ended, Flow, ack, printing};
use crate::error::Error;

/// One of the tutorials' queues as a command names it: `--queue` and `--classic`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// Its name (`hello`, `task_queue`, `rpc_queue`, or the one `--queue` gives).
    pub name: String,
    /// How it is declared.
    pub generation: Generation,
}

/// Which generation of the tutorials' declarations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Generation {
    /// Today's: a durable quorum queue.
    #[default]
    Quorum,
    /// The previous one (`--classic`): a classic queue, durable only for `task_queue`.
    Classic,
}

/// One of the tutorials' queues: which generation, and whether its classic form is durable
/// (`task_queue`) or not (`hello`, `rpc_queue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    /// Quorum (default) or classic.
    pub generation: Generation,
    /// The classic form is durable (`task_queue`).
    pub classic_durable: bool,
}

impl Declared {
    /// `hello` and `rpc_queue`: quorum, or classic and non-durable.
    pub fn transient_classic(generation: Generation) -> Self {
        Self {
            generation,
            classic_durable: false,
        }
    }

    /// `task_queue`: quorum, or classic and durable.
    pub fn durable_classic(generation: Generation) -> Self {
        Self {
            generation,
            classic_durable: true,
        }
    }

    /// The declaration's options.
    pub fn options(self) -> QueueDeclareOptions {
        match self.generation {
            Generation::Quorum => {
                let mut arguments = FieldTable::new();
                arguments.insert(
                    "x-queue-type".to_owned(),
                    AmqpValue::LongString("quorum".to_owned()),
                );
                QueueDeclareOptions {
                    durable: true,
                    arguments,
                    ..QueueDeclareOptions::default()
                }
            }
            Generation::Classic => QueueDeclareOptions {
                durable: self.classic_durable,
                ..QueueDeclareOptions::default()
            },
        }
    }
}

/// Declares a tutorial queue; one that exists as the other generation's is
/// [`Error::OtherGeneration`].
pub fn declare<'a>(channel: &'a Channel, name: &str, how: Declared) -> Result<Queue<'a>, Error> {
    channel.queue_declare(name, how.options()).map_err(|e| {
        match other_generation(&e, how.generation) {
            Some(existing) => Error::OtherGeneration {
                name: name.to_owned(),
                existing,
                hint: match how.generation {
                    Generation::Quorum => "run with --classic",
                    Generation::Classic => "run without --classic",
                },
            },
            None => declare_queue_error(e, name),
        }
    })
}

/// A consumer of one of these queues that prints, as tutorials 1 and 2 do: on every connection
/// it sets the prefetch (when `prefetch` is given) and declares the queue `name` as `how`;
/// it prints `waiting` once, then ` [x] Received <body>` per message, runs `then` on the body,
/// and acknowledges the message once `then` is done with it ([`Flow::Continue`]).
pub fn receive<W: Write>(
    run: Consuming<'_>,
    out: &mut Out<W>,
    (name, how): (&str, Declared),
    prefetch: Option<u16>,
    waiting: &str,
    mut then: impl FnMut(&mut Out<W>, &str) -> Result<Flow, Error>,
) -> Result<Ended, Error> {
    let setup = |channel: &Channel| {
        if let Some(n) = prefetch {
            channel
                .qos(0, n, false)
                .map_err(|e| Error::amqp(format!("setting prefetch to {n}"), e))?;
        }
        declare(channel, name, how)?;
        Ok(name.to_owned())
    };
    printing(run, out, waiting, setup, |out, consumer, delivery| {
        let body = String::from_utf8_lossy(&delivery.body).into_owned();
        out.line(format_args!(" [x] Received {body}"))?;
        match then(out, &body)? {
            Flow::Continue => ack(consumer, delivery),
            Flow::Stop => Ok(Flow::Stop),
        }
    })
}

/// What the existing queue is, when RabbitMQ's PRECONDITION_FAILED says it is of the other
/// generation (`None` for any other refusal).
fn other_generation(e: &amiquip::Error, ours: Generation) -> Option<&'static str> {
    let amiquip::Error::ServerClosedChannel {
        code: 406, message, ..
    } = e
    else {
        return None;
    };
    existing_kind(message, ours)
}

/// Reads RabbitMQ's `inequivalent arg ... current is ...` for the queue's kind.
fn existing_kind(message: &str, ours: Generation) -> Option<&'static str> {
    let current = message.split("but current is ").nth(1)?;
    if message.contains("inequivalent arg 'x-queue-type'") {
        if current.contains("'quorum'") {
            (ours == Generation::Classic).then_some("a quorum queue")
        } else if current == "none" || current.contains("'classic'") {
            (ours == Generation::Quorum).then_some("a classic queue")
        } else {
            None
        }
    } else if message.contains("inequivalent arg 'durable'") {
        match (ours, current) {
            // Quorum queues are always durable: a non-durable one is classic.
            (Generation::Quorum, "'false'") => Some("a classic queue"),
            (Generation::Classic, "'true'") => Some("a durable queue (today's tutorials: quorum)"),
            _ => None,
        }
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rabbitmq_refusals_name_the_existing_kind() {
        let q = Generation::Quorum;
        let c = Generation::Classic;
        let msg = |arg: &str, rest: &str| {
            format!(
                "PRECONDITION_FAILED - inequivalent arg '{arg}' for queue 'hello' in vhost '/': \
                 {rest}"
            )
        };
        let durable_false = msg("durable", "received 'true' but current is 'false'");
        assert_eq!(existing_kind(&durable_false, q), Some("a classic queue"));
        let none = msg(
            "x-queue-type",
            "received the value 'quorum' of type 'longstr' but current is none",
        );
        assert_eq!(existing_kind(&none, q), Some("a classic queue"));
        let durable_true = msg("durable", "received 'false' but current is 'true'");
        assert_eq!(
            existing_kind(&durable_true, c),
            Some("a durable queue (today's tutorials: quorum)")
        );
        let quorum = msg(
            "x-queue-type",
            "received none but current is the value 'quorum' of type 'longstr'",
        );
        assert_eq!(existing_kind(&quorum, c), Some("a quorum queue"));
        let other = msg("x-max-length", "received '10' but current is none");
        assert_eq!(existing_kind(&other, q), None);
    }
}
