//! Just enough RESP2 for a [`super::Link`]: encoding a command, and finding where each reply
//! ends.
//!
//! `bench` writes pre-encoded commands straight to a socket (as `redis-benchmark` does) and only
//! needs to know, for each reply, where it ends and what kind it is. The parser is strict: every
//! line ends in CRLF, integers and lengths are plain decimal, a bulk string is followed by CRLF,
//! anything else (RESP3 types, inline text) is a [`ProtocolError`]. It never allocates and never
//! copies the reply.

use std::fmt;

// The longest line and bulk string are the bounds of `super::scan`, one place for both
// readers: a peer that sends a longer line without a CRLF is not speaking RESP, and is not
// buffered without end.
use super::scan::{MAX_BULK, MAX_LINE};

/// The most nesting of arrays accepted (replies of the commands `bench` sends are flat).
const MAX_DEPTH: usize = 16;

/// What kind of reply was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `+OK`.
    Status,
    /// `-ERR ...`.
    Error,
    /// `:42`.
    Integer,
    /// `$3\r\nfoo`.
    Bulk,
    /// `$-1` or `*-1`.
    Nil,
    /// `*2\r\n...`.
    Array,
}

/// One reply found at the start of a buffer: its kind and its length in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The kind.
    pub kind: Kind,
    /// How many bytes of the buffer it takes.
    pub len: usize,
}

/// The bytes are not RESP2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "protocol error: {}", self.0)
    }
}

impl std::error::Error for ProtocolError {}

impl ProtocolError {
    /// Whether it is one of this parser's bounds (a line, a bulk string or a nesting too long
    /// or deep) rather than a byte that RESP does not have: what a reader without bounds (the
    /// redis crate's) would go on buffering.
    pub fn is_beyond_a_bound(&self) -> bool {
        [
            "a line longer than",
            "bad bulk length",
            "arrays nested too deep",
        ]
        .iter()
        .any(|bound| self.0.starts_with(bound))
    }
}

/// Appends `*N\r\n$len\r\narg\r\n...` for `args` to `out`.
pub fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// The reply at the start of `buf`: `Ok(None)` when it is not complete yet.
pub fn parse(buf: &[u8]) -> Result<Option<Reply>, ProtocolError> {
    Ok(skip(buf, 0, 0)?.map(|(kind, end)| Reply { kind, len: end }))
}

/// The text of an error or status reply (without the type byte and CRLF).
pub fn line_text(reply: &[u8]) -> String {
    let body = reply.get(1..reply.len().saturating_sub(2)).unwrap_or(&[]);
    String::from_utf8_lossy(body).into_owned()
}

/// The line starting at `pos` (after the type byte): its content and where the next starts.
fn line(buf: &[u8], pos: usize) -> Result<Option<(&[u8], usize)>, ProtocolError> {
    let rest = &buf[pos..];
    let Some(cr) = memchr(b'\r', rest) else {
        if rest.contains(&b'\n') {
            return Err(ProtocolError("bare LF in a line".into()));
        }
        return Ok(None);
    };
    let content = &rest[..cr];
    if content.contains(&b'\n') {
        return Err(ProtocolError("bare LF in a line".into()));
    }
    match rest.get(cr + 1) {
        None => Ok(None),
        Some(b'\n') => Ok(Some((content, pos + cr + 2))),
        Some(_) => Err(ProtocolError("CR not followed by LF".into())),
    }
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// A decimal integer as RESP writes it: an optional `-`, then 1 to 19 digits.
fn integer(text: &[u8]) -> Result<i64, ProtocolError> {
    let bad = || ProtocolError(format!("bad integer {:?}", String::from_utf8_lossy(text)));
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let mut n: u64 = 0;
    for &d in digits {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or_else(bad)?;
    }
    if negative {
        0i64.checked_sub_unsigned(n).ok_or_else(bad)
    } else {
        i64::try_from(n).map_err(|_| bad())
    }
}

/// Skips the reply starting at `pos`; answers its kind and where it ends.
fn skip(buf: &[u8], pos: usize, depth: usize) -> Result<Option<(Kind, usize)>, ProtocolError> {
    let Some(&tag) = buf.get(pos) else {
        return Ok(None);
    };
    if !matches!(tag, b'+' | b'-' | b':' | b'$' | b'*') {
        // Said at once: the rest of the line may never come (an AMQP header has no CRLF).
        return Err(ProtocolError(format!("unexpected type byte {tag:#04x}")));
    }
    let Some((content, next)) = line(buf, pos + 1)? else {
        if buf.len() - pos > MAX_LINE {
            return Err(ProtocolError(format!(
                "a line longer than {MAX_LINE} bytes"
            )));
        }
        return Ok(None);
    };
    match tag {
        b'+' => Ok(Some((Kind::Status, next))),
        b'-' => Ok(Some((Kind::Error, next))),
        b':' => integer(content).map(|_| Some((Kind::Integer, next))),
        b'$' => {
            let n = integer(content)?;
            if n == -1 {
                return Ok(Some((Kind::Nil, next)));
            }
            if u64::try_from(n).map_or(true, |n| n > MAX_BULK) {
                return Err(ProtocolError(format!("bad bulk length {n}")));
            }
            let end = next + n as usize;
            match buf.get(end..end + 2) {
                None => Ok(None),
                Some(b"\r\n") => Ok(Some((Kind::Bulk, end + 2))),
                Some(_) => Err(ProtocolError("bulk string not followed by CRLF".into())),
            }
        }
        b'*' => {
            let n = integer(content)?;
            if n == -1 {
                return Ok(Some((Kind::Nil, next)));
            }
            if n < 0 {
                return Err(ProtocolError(format!("bad array length {n}")));
            }
            if depth >= MAX_DEPTH {
                return Err(ProtocolError("arrays nested too deep".into()));
            }
            let mut at = next;
            for _ in 0..n {
                match skip(buf, at, depth + 1)? {
                    Some((_, end)) => at = end,
                    None => return Ok(None),
                }
            }
            Ok(Some((Kind::Array, at)))
        }
        other => Err(ProtocolError(format!("unexpected type byte {other:#04x}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bounds_are_told_from_bytes_that_are_not_resp() {
        let endless = [b"+".as_slice(), &vec![b'a'; MAX_LINE + 1]].concat();
        assert!(parse(&endless).unwrap_err().is_beyond_a_bound());
        assert!(parse(b"$999999999999\r\n").unwrap_err().is_beyond_a_bound());
        assert!(!parse(b"SSH-2.0\r\n").unwrap_err().is_beyond_a_bound());
    }

    #[test]
    fn replies_of_the_bench_commands() {
        assert_eq!(
            parse(b"+OK\r\n").unwrap(),
            Some(Reply {
                kind: Kind::Status,
                len: 5
            })
        );
        assert_eq!(parse(b":12\r\n:1").unwrap().unwrap().len, 5);
        assert_eq!(parse(b"$3\r\nxxx\r\n").unwrap().unwrap().kind, Kind::Bulk);
        assert_eq!(parse(b"$-1\r\n").unwrap().unwrap().kind, Kind::Nil);
        assert_eq!(parse(b"*-1\r\n").unwrap().unwrap().kind, Kind::Nil);
        assert_eq!(
            parse(b"*2\r\n$1\r\na\r\n:1\r\n").unwrap(),
            Some(Reply {
                kind: Kind::Array,
                len: 15
            })
        );
        let err = b"-WRONGTYPE Operation against a key\r\n";
        let r = parse(err).unwrap().unwrap();
        assert_eq!(r.kind, Kind::Error);
        assert_eq!(
            line_text(&err[..r.len]),
            "WRONGTYPE Operation against a key"
        );
        // A bulk string may hold CR and LF: its length says where it ends.
        assert_eq!(parse(b"$2\r\n\r\n\r\n").unwrap().unwrap().len, 8);
    }

    /// Incomplete input is `None` (more bytes may come), malformed input an error.
    #[test]
    fn incomplete_is_none_and_malformed_an_error() {
        let incomplete: &[&[u8]] = &[
            b"",
            b"+",
            b"+OK",
            b"+OK\r",
            b"$3\r\nxx",
            b"$3\r\nxxx\r",
            b"*2\r\n:1\r\n",
        ];
        let malformed: &[&[u8]] = &[
            b"?x\r\n",
            b"+OK\rX",
            b"+O\nK\r\n",
            b":1x\r\n",
            b":\r\n",
            b":99999999999999999999\r\n",
            b"$-2\r\n",
            b"$3\r\nxxxyy",
            b"*-3\r\n",
            b"%1\r\n",
            b"OK\r\n",
        ];
        for (inputs, wrong) in [(incomplete, false), (malformed, true)] {
            for input in inputs {
                match parse(input) {
                    Ok(r) if !wrong => assert_eq!(r, None, "{input:?}"),
                    r => assert_eq!(r.is_err(), wrong, "{input:?}: {r:?}"),
                }
            }
        }
        let deep = "*1\r\n".repeat(MAX_DEPTH + 1) + ":1\r\n";
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn commands_are_encoded_as_bulk_arrays() {
        let mut out = Vec::new();
        encode(&mut out, &[b"SET", b"k", b"a b\r\n"]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na b\r\n\r\n");
    }

    /// A reply tree, to encode and parse back.
    #[derive(Debug, Clone)]
    enum Tree {
        Status(String),
        Error(String),
        Int(i64),
        Bulk(Vec<u8>),
        Nil,
        Array(Vec<Tree>),
    }

    fn tree() -> impl Strategy<Value = Tree> {
        let line = "[^\r\n]{0,20}";
        let leaf = prop_oneof![
            line.prop_map(Tree::Status),
            line.prop_map(Tree::Error),
            any::<i64>().prop_map(Tree::Int),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Tree::Bulk),
            Just(Tree::Nil),
        ];
        leaf.prop_recursive(4, 32, 5, |inner| {
            proptest::collection::vec(inner, 0..5).prop_map(Tree::Array)
        })
    }

    fn write(t: &Tree, out: &mut Vec<u8>) {
        match t {
            Tree::Status(s) => out.extend_from_slice(format!("+{s}\r\n").as_bytes()),
            Tree::Error(s) => out.extend_from_slice(format!("-{s}\r\n").as_bytes()),
            Tree::Int(n) => out.extend_from_slice(format!(":{n}\r\n").as_bytes()),
            Tree::Bulk(b) => {
                out.extend_from_slice(format!("${}\r\n", b.len()).as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Tree::Nil => out.extend_from_slice(b"$-1\r\n"),
            Tree::Array(items) => {
                out.extend_from_slice(format!("*{}\r\n", items.len()).as_bytes());
                for i in items {
                    write(i, out);
                }
            }
        }
    }

    fn kind(t: &Tree) -> Kind {
        match t {
            Tree::Status(_) => Kind::Status,
            Tree::Error(_) => Kind::Error,
            Tree::Int(_) => Kind::Integer,
            Tree::Bulk(_) => Kind::Bulk,
            Tree::Nil => Kind::Nil,
            Tree::Array(_) => Kind::Array,
        }
    }

    proptest! {
        #[test]
        fn any_reply_parses_to_its_exact_length(t in tree(), tail in proptest::collection::vec(any::<u8>(), 0..8)) {
            let mut bytes = Vec::new();
            write(&t, &mut bytes);
            let len = bytes.len();
            // Every proper prefix is incomplete, never an error.
            for cut in 0..len {
                prop_assert_eq!(parse(&bytes[..cut]).unwrap(), None);
            }
            bytes.extend_from_slice(&tail);
            prop_assert_eq!(parse(&bytes).unwrap(), Some(Reply { kind: kind(&t), len }));
        }

        #[test]
        fn replies_back_to_back_split_anywhere(ts in proptest::collection::vec(tree(), 1..6)) {
            let mut bytes = Vec::new();
            for t in &ts {
                write(t, &mut bytes);
            }
            let mut at = 0;
            let mut kinds = Vec::new();
            while at < bytes.len() {
                let r = parse(&bytes[at..]).unwrap().unwrap();
                kinds.push(r.kind);
                at += r.len;
            }
            prop_assert_eq!(kinds, ts.iter().map(kind).collect::<Vec<_>>());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(Some(r)) = parse(&bytes) {
                prop_assert!(r.len <= bytes.len());
            }
        }

        #[test]
        fn encoded_commands_parse_as_arrays(args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 1..6)) {
            let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            let mut out = Vec::new();
            encode(&mut out, &refs);
            prop_assert_eq!(parse(&out).unwrap(), Some(Reply { kind: Kind::Array, len: out.len() }));
        }
    }
}
