//! Beyond the tutorials, the headers exchange (tutorial 4 mentions it, none shows it):
//! `emit-log-headers` publishes a message with `KEY=VALUE` headers to the headers exchange
//! `headers_logs`, which ignores the routing key; each `receive-logs-headers` binds its queue
//! with the headers it wants and `x-match`: `all` (every header must match) or `any` (one is
//! enough), and prints ` [x] format=pdf,type=report:a pdf`. The code is
//! [`log_exchange`](super::log_exchange)'s, with [`Kind::Headers`](super::log_exchange::Kind);
//! here, the headers: from words, into an AMQP table, and back into text.

use std::collections::BTreeMap;

use amiquip::{AmqpValue, FieldTable};

/// The exchange of the headers commands.
pub const EXCHANGE: &str = "headers_logs";
/// The default message.
pub const MESSAGE: &str = "Hello World!";

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

/// Parses a `KEY=VALUE` word into a header; `None` for a word that is not one.
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

/// The arguments of a headers receiver's binding: `headers`, and `x-match`: `all` of them must
/// match, or (with `any`) any one.
pub fn binding_arguments(headers: &[(String, String)], any: bool) -> FieldTable {
    let mut arguments = header_table(headers);
    arguments.insert(
        "x-match".to_owned(),
        AmqpValue::LongString(if any { "any" } else { "all" }.to_owned()),
    );
    arguments
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
        let arguments = binding_arguments(&[("format".into(), "pdf".into())], true);
        assert_eq!(headers_text(&arguments), "format=pdf,x-match=any");
    }

    #[test]
    fn header_words() {
        assert_eq!(parse_header("a=b=c"), Some(("a".into(), "b=c".into())));
        assert_eq!(parse_header("a="), Some(("a".into(), String::new())));
        assert_eq!(parse_header("=b"), None);
        assert_eq!(parse_header("plain"), None);
    }
}
