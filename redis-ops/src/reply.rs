//! Commands and replies as redis-cli shows them, and what a reply is expected to be.
//!
//! ```text
//! > HSET lesson:42:h k1 v1        <- show_command
//! (integer) 1                      <- show_reply
//! > HMGET lesson:42:h k1 nope
//! 1) "v1"
//! 2) (nil)
//! ```
//!
//! [`Expect`] is what a lesson step checks the reply against; the short constructors ([`ok`],
//! [`int`], [`bulk`], [`strs`], [`nil`], [`unordered`], ...) keep each step one readable line.

use std::fmt::Write as _;

use redis::{Arg, Cmd, Value};

/// A command as typed at the redis-cli prompt: `SET lesson:42:s "hello world" EX 100`.
pub fn show_command(cmd: &Cmd) -> String {
    let mut line = String::new();
    for (i, arg) in cmd.args_iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        match arg {
            Arg::Simple(bytes) => line.push_str(&show_arg(bytes)),
            _ => line.push_str("<cursor>"),
        }
    }
    line
}

/// One argument: bare when it is plain printable ASCII, else quoted with escapes.
pub fn show_arg(bytes: &[u8]) -> String {
    let plain = !bytes.is_empty()
        && bytes
            .iter()
            .all(|&b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\');
    if plain {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        quote(bytes)
    }
}

/// A byte string in double quotes, redis-cli style: printable ASCII as is, `\n`, `\r`, `\t`,
/// `\"`, `\\`, and every other byte as `\xHH` (so `你好` shows its 6 UTF-8 bytes).
pub fn quote(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x07 => s.push_str("\\a"),
            0x08 => s.push_str("\\b"),
            b' '..=b'~' => s.push(char::from(b)),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('"');
    s
}

/// A reply as redis-cli prints it (several lines for arrays).
pub fn show_reply(value: &Value) -> String {
    let mut out = String::new();
    write_reply(&mut out, value, 0);
    out
}

fn write_reply(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Nil => out.push_str("(nil)"),
        Value::Int(n) => {
            let _ = write!(out, "(integer) {n}");
        }
        Value::BulkString(bytes) => out.push_str(&quote(bytes)),
        Value::Okay => out.push_str("OK"),
        Value::SimpleString(s) => out.push_str(s),
        Value::Double(d) => {
            let _ = write!(out, "(double) {d}");
        }
        Value::Boolean(b) => {
            let _ = write!(out, "({b})");
        }
        Value::ServerError(e) => {
            let _ = write!(out, "(error) {}", e.code());
            if let Some(d) = e.details() {
                let _ = write!(out, " {d}");
            }
        }
        Value::Array(items) | Value::Set(items) | Value::Push { data: items, .. } => {
            write_items(out, items, indent);
        }
        Value::Map(pairs) => {
            let flat: Vec<Value> = pairs
                .iter()
                .flat_map(|(k, v)| [k.clone(), v.clone()])
                .collect();
            write_items(out, &flat, indent);
        }
        other => {
            let _ = write!(out, "{other:?}");
        }
    }
}

fn write_items(out: &mut String, items: &[Value], indent: usize) {
    if items.is_empty() {
        out.push_str("(empty array)");
        return;
    }
    let width = items.len().to_string().len();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
        }
        let _ = write!(out, "{:>width$}) ", i + 1);
        write_reply(out, item, indent + width + 2);
    }
}

/// What a lesson step expects Redis to answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// Exactly this reply.
    Reply(Value),
    /// An array holding these elements, in any order (set members, KEYS).
    Unordered(Vec<Value>),
    /// A flat field/value array holding these pairs, in any order (HGETALL).
    Pairs(Vec<(Value, Value)>),
    /// One of these replies (SPOP, SRANDMEMBER).
    OneOf(Vec<Value>),
    /// An integer in this range, both ends included (TTL).
    Between(i64, i64),
    /// A server error whose text starts with this (`WRONGTYPE`).
    Error(String),
    /// Any reply but an error or nil; the text says what it is (RANDOMKEY).
    Some(&'static str),
}

/// `OK`.
pub fn ok() -> Expect {
    Expect::Reply(Value::Okay)
}

/// A status reply other than OK (`QUEUED`, `string` from TYPE).
pub fn status(s: &str) -> Expect {
    Expect::Reply(Value::SimpleString(s.to_owned()))
}

/// `(integer) n`.
pub fn int(n: i64) -> Expect {
    Expect::Reply(Value::Int(n))
}

/// `"text"` (a bulk string; numbers from INCRBYFLOAT, ZSCORE come as text too).
pub fn bulk(text: &str) -> Expect {
    Expect::Reply(b(text))
}

/// A bulk string of raw bytes.
pub fn bytes(raw: &[u8]) -> Expect {
    Expect::Reply(Value::BulkString(raw.to_vec()))
}

/// `(nil)`.
pub fn nil() -> Expect {
    Expect::Reply(Value::Nil)
}

/// An array of bulk strings, in this order.
pub fn strs<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Expect {
    Expect::Reply(Value::Array(
        items.into_iter().map(|s| b(s.as_ref())).collect(),
    ))
}

/// An array of these replies, in this order (mixed types: `["1", (nil)]`).
pub fn array(items: Vec<Value>) -> Expect {
    Expect::Reply(Value::Array(items))
}

/// An array of bulk strings, in any order.
pub fn unordered<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Expect {
    Expect::Unordered(items.into_iter().map(|s| b(s.as_ref())).collect())
}

/// Field/value pairs, in any order.
pub fn pairs<K: AsRef<str>, V: AsRef<str>>(items: impl IntoIterator<Item = (K, V)>) -> Expect {
    Expect::Pairs(
        items
            .into_iter()
            .map(|(k, v)| (b(k.as_ref()), b(v.as_ref())))
            .collect(),
    )
}

/// One of these bulk strings.
pub fn one_of<const N: usize>(items: [&str; N]) -> Expect {
    Expect::OneOf(items.iter().map(|s| b(s)).collect())
}

/// An integer from `lo` to `hi`.
pub fn between(lo: i64, hi: i64) -> Expect {
    Expect::Between(lo, hi)
}

/// A server error starting with `prefix`.
pub fn error(prefix: &str) -> Expect {
    Expect::Error(prefix.to_owned())
}

/// A bulk string value, for [`array()`].
pub fn b(text: &str) -> Value {
    Value::BulkString(text.as_bytes().to_vec())
}

impl Expect {
    /// Does `reply` satisfy this expectation? A server error is passed as `Err(text)`. A RESP3
    /// reply (`?protocol=resp3`: a map, a set, a double...) is taken in its RESP2 shape.
    pub fn accepts(&self, reply: &Result<Value, String>) -> bool {
        let reply = &reply.as_ref().map(as_resp2).map_err(Clone::clone);
        match (self, reply) {
            (Self::Error(prefix), Err(text)) => text.starts_with(prefix.as_str()),
            (Self::Reply(want), Ok(got)) => same(want, got),
            (Self::Unordered(want), Ok(Value::Array(got))) => same_multiset(want, got),
            (Self::Pairs(want), Ok(Value::Array(got))) => {
                let got: Vec<Value> = got.chunks(2).map(|p| Value::Array(p.to_vec())).collect();
                let want: Vec<Value> = want
                    .iter()
                    .map(|(k, v)| Value::Array(vec![k.clone(), v.clone()]))
                    .collect();
                same_multiset(&want, &got)
            }
            (Self::OneOf(options), Ok(got)) => options.iter().any(|w| same(w, got)),
            (Self::Between(lo, hi), Ok(Value::Int(n))) => (lo..=hi).contains(&n),
            (Self::Some(_), Ok(got)) => !matches!(got, Value::Nil),
            _ => false,
        }
    }
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |items: &[Value]| {
            items
                .iter()
                .map(|v| show_reply(v).replace('\n', " "))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Self::Reply(v) => f.write_str(&show_reply(v).replace('\n', " ")),
            Self::Unordered(items) => write!(f, "in any order: {}", list(items)),
            Self::Pairs(pairs) => {
                let flat: Vec<Value> = pairs
                    .iter()
                    .flat_map(|(k, v)| [k.clone(), v.clone()])
                    .collect();
                write!(f, "these field/value pairs in any order: {}", list(&flat))
            }
            Self::OneOf(items) => write!(f, "one of: {}", list(items)),
            Self::Between(lo, hi) => write!(f, "an integer from {lo} to {hi}"),
            Self::Error(prefix) => write!(f, "(error) {prefix}..."),
            Self::Some(what) => f.write_str(what),
        }
    }
}

/// Equal, treating `OK` and the status `"OK"` alike, and a number sent as a RESP3 double
/// ([`as_resp2`]) and as RESP2 text alike.
fn same(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Okay, Value::SimpleString(s)) | (Value::SimpleString(s), Value::Okay) => s == "OK",
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::BulkString(text), Value::Double(d)) => std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            // The same double both ways: exact (RESP2's text is the shortest that reads back).
            .is_some_and(|x| x.to_bits() == d.to_bits()),
        _ => want == got,
    }
}

/// A RESP3 reply in the shape RESP2 gives it: a map as a flat field/value array, a set as an
/// array, a boolean as 0 or 1, a verbatim string as its text; a reply of pairs (`ZRANGE ...
/// WITHSCORES`) flat. A double stays one ([`same`] takes it for the text RESP2 sends). A RESP2
/// reply is left as it is.
fn as_resp2(v: &Value) -> Value {
    match v {
        Value::Map(pairs) => Value::Array(
            pairs
                .iter()
                .flat_map(|(k, v)| [as_resp2(k), as_resp2(v)])
                .collect(),
        ),
        Value::Set(items) | Value::Push { data: items, .. } => {
            Value::Array(items.iter().map(as_resp2).collect())
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(is_scored_pair) => {
            Value::Array(
                items
                    .iter()
                    .flat_map(|p| match p {
                        Value::Array(pair) => pair.iter().map(as_resp2).collect(),
                        _ => Vec::new(),
                    })
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(as_resp2).collect()),
        Value::Boolean(b) => Value::Int(i64::from(*b)),
        Value::VerbatimString { text, .. } => Value::BulkString(text.clone().into_bytes()),
        Value::Attribute { data, .. } => as_resp2(data),
        other => other.clone(),
    }
}

/// `[member, score]` as RESP3 sends each element of `ZRANGE ... WITHSCORES`.
fn is_scored_pair(v: &Value) -> bool {
    matches!(v, Value::Array(pair) if matches!(pair.as_slice(), [_, Value::Double(_)]))
}

fn same_multiset(want: &[Value], got: &[Value]) -> bool {
    if want.len() != got.len() {
        return false;
    }
    let mut left: Vec<&Value> = got.iter().collect();
    for w in want {
        match left.iter().position(|g| same(w, g)) {
            Some(i) => {
                left.swap_remove(i);
            }
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn resp3_replies_are_taken_in_their_resp2_shape() {
        let map = Value::Map(vec![(b("k1"), b("v1")), (b("k2"), b("v2"))]);
        assert!(pairs([("k2", "v2"), ("k1", "v1")]).accepts(&Ok(map)));
        let set = Value::Set(vec![b("b"), b("a")]);
        assert!(unordered(["a", "b"]).accepts(&Ok(set)));
        assert!(bulk("11").accepts(&Ok(Value::Double(11.0))));
        assert!(bulk("2.5").accepts(&Ok(Value::Double(2.5))));
        assert!(!bulk("2.5").accepts(&Ok(Value::Double(2.25))));
        let scored = Value::Array(vec![
            Value::Array(vec![b("a"), Value::Double(1.0)]),
            Value::Array(vec![b("b"), Value::Double(2.5)]),
        ]);
        assert!(strs(["a", "1", "b", "2.5"]).accepts(&Ok(scored)));
        assert!(int(1).accepts(&Ok(Value::Boolean(true))));
        // RESP2 replies as before: other text is another reply, even for the same number.
        assert!(!bulk("1").accepts(&Ok(b("1.0"))));
        assert!(bulk("1").accepts(&Ok(b("1"))));
    }

    #[test]
    fn commands_print_like_the_prompt() {
        assert_eq!(
            show_command(&Cmd::hset("lesson:42:h", "k1", "v1")),
            "HSET lesson:42:h k1 v1"
        );
        assert_eq!(
            show_command(redis::cmd("SET").arg("k").arg("hello world").arg("你")),
            r#"SET k "hello world" "\xe4\xbd\xa0""#
        );
        assert_eq!(
            show_command(redis::cmd("SET").arg("k").arg("")),
            r#"SET k """#
        );
    }

    #[test]
    fn replies_print_like_redis_cli() {
        assert_eq!(show_reply(&Value::Int(1)), "(integer) 1");
        assert_eq!(show_reply(&Value::Nil), "(nil)");
        assert_eq!(show_reply(&Value::Okay), "OK");
        assert_eq!(show_reply(&b("a\"b\n")), r#""a\"b\n""#);
        assert_eq!(show_reply(&Value::Array(vec![])), "(empty array)");
        assert_eq!(
            show_reply(&Value::Array(vec![b("v1"), Value::Nil])),
            "1) \"v1\"\n2) (nil)"
        );
        let nested = Value::Array(vec![b("0"), Value::Array(vec![b("a"), b("b")])]);
        assert_eq!(show_reply(&nested), "1) \"0\"\n2) 1) \"a\"\n   2) \"b\"");
        let ten = Value::Array((1..=10).map(Value::Int).collect());
        let text = show_reply(&ten);
        assert!(text.starts_with(" 1) (integer) 1\n 2)"), "{text}");
        assert!(text.ends_with("\n10) (integer) 10"), "{text}");
    }

    #[test]
    fn expectations() {
        let arr = |v: &[&str]| Ok(Value::Array(v.iter().map(|s| b(s)).collect()));
        assert!(unordered(["a", "b"]).accepts(&arr(&["b", "a"])));
        assert!(!unordered(["a", "b"]).accepts(&arr(&["a", "a"])));
        assert!(!unordered(["a", "b"]).accepts(&arr(&["a"])));
        assert!(strs(["a", "b"]).accepts(&arr(&["a", "b"])));
        assert!(!strs(["a", "b"]).accepts(&arr(&["b", "a"])));
        assert!(pairs([("k", "1"), ("j", "2")]).accepts(&arr(&["j", "2", "k", "1"])));
        assert!(!pairs([("k", "1"), ("j", "2")]).accepts(&arr(&["k", "2", "j", "1"])));
        assert!(between(1, 3).accepts(&Ok(Value::Int(3))));
        assert!(!between(1, 3).accepts(&Ok(Value::Int(4))));
        assert!(error("WRONGTYPE").accepts(&Err("WRONGTYPE Operation".into())));
        assert!(!int(1).accepts(&Err("ERR".into())));
        assert!(ok().accepts(&Ok(Value::SimpleString("OK".into()))));
        assert!(one_of(["a", "b"]).accepts(&Ok(b("b"))));
        assert_eq!(int(3).to_string(), "(integer) 3");
        assert_eq!(strs(["a"]).to_string(), "1) \"a\"");
    }

    /// Reads a quoted string back, the way redis-cli reads its input.
    fn unquote(s: &str) -> Vec<u8> {
        let inner = &s.as_bytes()[1..s.len() - 1];
        let mut out = Vec::new();
        let mut i = 0;
        while i < inner.len() {
            if inner[i] == b'\\' {
                let (byte, len) = match inner[i + 1] {
                    b'n' => (b'\n', 2),
                    b'r' => (b'\r', 2),
                    b't' => (b'\t', 2),
                    b'a' => (7, 2),
                    b'b' => (8, 2),
                    b'x' => {
                        let hex = std::str::from_utf8(&inner[i + 2..i + 4]).unwrap();
                        (u8::from_str_radix(hex, 16).unwrap(), 4)
                    }
                    other => (other, 2),
                };
                out.push(byte);
                i += len;
            } else {
                out.push(inner[i]);
                i += 1;
            }
        }
        out
    }

    proptest! {
        #[test]
        fn quoting_is_reversible_and_one_line(raw in proptest::collection::vec(any::<u8>(), 0..64)) {
            let q = quote(&raw);
            prop_assert!(!q.contains('\n'));
            prop_assert!(q.is_ascii());
            prop_assert_eq!(unquote(&q), raw);
        }
    }
}
