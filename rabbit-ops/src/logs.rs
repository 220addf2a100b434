//! Tutorials 3-5 and the headers exchange: a log emitter publishes to an exchange, each
//! receiver binds its own server-named exclusive queue to it and prints what arrives.
//!
//! - fanout (`logs`): every bound queue gets every message, the routing key is ignored;
//! - direct (`direct_logs`): a queue gets the messages whose routing key equals a binding key;
//! - topic (`topic_logs`): binding keys are patterns over dot-separated words, `*` is exactly one
//!   word and `#` zero or more;
//! - headers (`headers_logs`): the routing key is ignored, the message's headers are matched
//!   against the binding's, all of them (`x-match: all`) or any one (`x-match: any`).

use std::collections::BTreeMap;
use std::io::Write;

use amiquip::{AmqpProperties, AmqpValue, Delivery, ExchangeType, FieldTable};
use common::output::Out;

use crate::broker::{Broker, bind, declare_exchange, exclusive_queue};
use crate::consume::{Consuming, Ended, ack, printing};
use crate::error::Error;
use crate::publish::{self, Messages, Outgoing, Publisher};

/// Which of the four tutorials: the exchange type and how a received message is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `emit-log` / `receive-logs`.
    Fanout,
    /// `emit-log-direct` / `receive-logs-direct`.
    Direct,
    /// `emit-log-topic` / `receive-logs-topic`.
    Topic,
    /// `emit-log-headers` / `receive-logs-headers`.
    Headers,
}

impl Kind {
    /// The tutorial's exchange name.
    pub fn default_exchange(self) -> &'static str {
        match self {
            Kind::Fanout => "logs",
            Kind::Direct => "direct_logs",
            Kind::Topic => "topic_logs",
            Kind::Headers => "headers_logs",
        }
    }

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

/// The message's headers as `k=v,k=v` (sorted by name).
pub fn headers_text(headers: &FieldTable) -> String {
    headers
        .iter()
        .map(|(k, v)| format!("{k}={}", value_text(v)))
        .collect::<Vec<_>>()
        .join(",")
}

fn value_text(v: &AmqpValue) -> String {
    match v {
        AmqpValue::LongString(s) => s.clone(),
        AmqpValue::Boolean(b) => b.to_string(),
        AmqpValue::ShortShortInt(n) => n.to_string(),
        AmqpValue::ShortShortUInt(n) => n.to_string(),
        AmqpValue::ShortInt(n) => n.to_string(),
        AmqpValue::ShortUInt(n) => n.to_string(),
        AmqpValue::LongInt(n) => n.to_string(),
        AmqpValue::LongUInt(n) => n.to_string(),
        AmqpValue::LongLongInt(n) => n.to_string(),
        AmqpValue::ByteArray(b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

/// Parses `KEY=VALUE` words into a header table; `None` for a word that is not one.
pub fn parse_header(word: &str) -> Option<(String, String)> {
    let (k, v) = word.split_once('=')?;
    (!k.is_empty()).then(|| (k.to_owned(), v.to_owned()))
}

/// A header table from `KEY=VALUE` pairs (string values).
pub fn header_table(pairs: &[(String, String)]) -> FieldTable {
    pairs
        .iter()
        .map(|(k, v)| (k.clone(), AmqpValue::LongString(v.clone())))
        .collect::<BTreeMap<_, _>>()
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
    /// Binding arguments (`x-match` and the headers, for the headers exchange).
    pub arguments: FieldTable,
}

/// The binding of a headers receiver: match `all` or `any` of `headers`.
pub fn headers_binding(headers: &[(String, String)], any: bool) -> Binding {
    let mut arguments = header_table(headers);
    arguments.insert(
        "x-match".to_owned(),
        AmqpValue::LongString(if any { "any" } else { "all" }.to_owned()),
    );
    Binding {
        key: String::new(),
        arguments,
    }
}

/// `receive-logs*`: declares the exchange and an exclusive server-named queue, binds it,
/// prints ` [*] Waiting for logs. To exit press CTRL+C`, then one line per message.
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
        " [*] Waiting for logs. To exit press CTRL+C",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_print_sorted() {
        let t = header_table(&[
            ("type".into(), "report".into()),
            ("format".into(), "pdf".into()),
        ]);
        assert_eq!(headers_text(&t), "format=pdf,type=report");
        let b = headers_binding(&[("format".into(), "pdf".into())], true);
        assert_eq!(headers_text(&b.arguments), "format=pdf,x-match=any");
    }

    #[test]
    fn header_words() {
        assert_eq!(parse_header("a=b=c"), Some(("a".into(), "b=c".into())));
        assert_eq!(parse_header("a="), Some(("a".into(), String::new())));
        assert_eq!(parse_header("=b"), None);
        assert_eq!(parse_header("plain"), None);
    }
}
