//! The machinery tutorials 3, 4 and 5 and the headers exchange share: an emitter publishes log
//! messages to an exchange; each receiver declares a queue of its own (server-named and
//! exclusive: it goes with the connection), binds it to the exchange, and prints what arrives.
//! What differs from one tutorial to the next is the exchange's type ([`Kind`]), that is how
//! it routes, and so what a line shows:
//!
//! - fanout ([`publish_subscribe`](super::publish_subscribe), `logs`): every bound queue gets
//!   every message, the routing key is ignored;
//! - direct ([`routing`](super::routing), `direct_logs`): a queue gets the messages whose
//!   routing key equals a binding key;
//! - topic ([`topics`](super::topics), `topic_logs`): binding keys are patterns over
//!   dot-separated words, `*` is exactly one word and `#` zero or more;
//! - headers ([`headers`](super::headers), `headers_logs`): the routing key is ignored, the
//!   message's headers are matched against the binding's, all of them (`x-match: all`) or any
//!   one (`x-match: any`).

use std::io::Write;

use amiquip::{AmqpProperties, Delivery, ExchangeType, FieldTable};
use common::output::Out;

use super::headers::{header_table, headers_text};
use crate::broker::{Broker, bind, declare_exchange, exclusive_queue};
use crate::consume::{Consuming, Ended, ack, printing};
use crate::error::Error;
use crate::publish::{self, Messages, Outgoing, Publisher};

/// What a receiver prints once its queue is bound.
pub const WAITING: &str = " [*] Waiting for logs. To exit press CTRL+C";

/// Which of the four tutorials: the exchange type and how a received message is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Tutorial 3: `emit-log` / `receive-logs`.
    Fanout,
    /// Tutorial 4: `emit-log-direct` / `receive-logs-direct`.
    Direct,
    /// Tutorial 5: `emit-log-topic` / `receive-logs-topic`.
    Topic,
    /// The headers exchange: `emit-log-headers` / `receive-logs-headers`.
    Headers,
}

impl Kind {
    fn exchange_type(self) -> ExchangeType {
        match self {
            Kind::Fanout => ExchangeType::Fanout,
            Kind::Direct => ExchangeType::Direct,
            Kind::Topic => ExchangeType::Topic,
            Kind::Headers => ExchangeType::Headers,
        }
    }

    /// How a delivery is printed: ` [x] message`, ` [x] key:message`, ` [x] k=v,k=v:message`.
    fn line(self, delivery: &Delivery) -> String {
        let body = String::from_utf8_lossy(&delivery.body);
        match self {
            Kind::Fanout => format!(" [x] {body}"),
            Kind::Direct | Kind::Topic => format!(" [x] {}:{body}", delivery.routing_key),
            Kind::Headers => {
                let headers = delivery.properties.headers().clone().unwrap_or_default();
                format!(" [x] {}:{body}", headers_text(&headers))
            }
        }
    }
}

/// What a log message carries besides its body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// The routing key (ignored by fanout and headers exchanges).
    pub routing_key: String,
    /// Message headers (for the headers exchange).
    pub headers: Vec<(String, String)>,
}

/// `emit-log*`: declares the exchange, publishes each message, prints a `Sent` line for each.
/// With `options.confirm`, every message is confirmed (and republished after a lost
/// connection); one that no queue takes comes back and is reported (exit 1).
pub fn emit(
    broker: &Broker,
    kind: Kind,
    exchange: &str,
    envelope: &Envelope,
    options: publish::Options,
    messages: Messages,
    out: &mut Out<impl Write>,
) -> Result<publish::Published, Error> {
    let publisher = Publisher::new(broker, options, |channel| {
        declare_exchange(channel, exchange, kind.exchange_type()).map(drop)
    })?;
    let mut properties = AmqpProperties::default();
    if !envelope.headers.is_empty() {
        properties = properties.with_headers(header_table(&envelope.headers));
    }
    // What the Sent line shows before the message: the routing key, or the headers.
    let shown = match kind {
        Kind::Fanout => String::new(),
        Kind::Direct | Kind::Topic => format!("{}:", envelope.routing_key),
        Kind::Headers => format!("{}:", headers_text(&header_table(&envelope.headers))),
    };
    publisher.send_all(messages, out, |message| {
        let line = format!(" [x] Sent {shown}{message}");
        let outgoing = Outgoing {
            exchange: exchange.to_owned(),
            routing_key: envelope.routing_key.clone(),
            body: message.into_bytes(),
            properties: properties.clone(),
        };
        (outgoing, line)
    })
}

/// One binding of the receiver's queue: a routing key (or pattern) and arguments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Binding {
    /// The binding key (empty for fanout and headers).
    pub key: String,
    /// Binding arguments (`x-match` and the headers, for the headers exchange:
    /// [`binding_arguments`](super::headers::binding_arguments)).
    pub arguments: FieldTable,
}

impl Binding {
    /// A binding by routing key (direct) or pattern (topic), without arguments.
    pub fn key(key: &str) -> Self {
        Self {
            key: key.to_owned(),
            arguments: FieldTable::new(),
        }
    }
}

/// `receive-logs*`: declares the exchange and an exclusive server-named queue, binds it,
/// prints [`WAITING`], then one line per message.
///
/// After a lost connection the exclusive queue is gone with it: a new one is declared and bound
/// again (messages published in between reached no queue of ours).
pub fn receive(
    run: Consuming<'_>,
    kind: Kind,
    exchange: &str,
    bindings: &[Binding],
    out: &mut Out<impl Write>,
) -> Result<Ended, Error> {
    printing(
        run,
        out,
        WAITING,
        |channel| {
            let ex = declare_exchange(channel, exchange, kind.exchange_type())?;
            let q = exclusive_queue(channel)?;
            for b in bindings {
                bind(&q, &ex, &b.key, b.arguments.clone())?;
            }
            Ok(q.name().to_owned())
        },
        |out, consumer, delivery| {
            out.line(format_args!("{}", kind.line(&delivery)))?;
            ack(consumer, delivery)
        },
    )
}
