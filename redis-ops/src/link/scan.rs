//! Following RESP framing as bytes arrive, keeping only counters ([`Scanner`]): where each
//! reply ends, and whether one crosses a bound (issue 22.4):
//!
//! - a line (status, error, number, length) of at most [`MAX_LINE`] bytes;
//! - a bulk string of at most [`MAX_BULK`], what Redis itself sends at most
//!   (`proto-max-bulk-len`);
//! - at most [`MAX_ELEMENTS`] values in one reply, nested at most [`MAX_DEPTH`] deep;
//! - at most [`MAX_REPLY_BYTES`] in one reply.
//!
//! RESP2 and RESP3 are both followed, lines and lengths read exactly as the redis crate reads
//! them (a line ends at CRLF only; `-0` is 0; a negative length is null for some types and
//! refused for the others), so that the two never disagree on where a reply ends. A byte that
//! starts no RESP value is let through with at most [`MAX_LINE`] bytes after it, for a strict
//! parser to refuse in its own words.
//!
//! The redis crate's connections read through it (`crate::connect::bounded`), and a
//! [`super::Link`] uses it to wait for the end of a long reply without parsing it again from
//! its start at every read.

use std::fmt;

/// The longest line: a Redis status, error or length line is a few dozen bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// The longest bulk string: Redis's own `proto-max-bulk-len` default, 512 MiB.
pub const MAX_BULK: u64 = 512 * 1024 * 1024;

/// The most values in one reply, counting nested ones: the largest reply this tool reads is
/// CLUSTER SLOTS of a cluster whose 16,384 slots are all in ranges of their own, one replica
/// each (about 245,000 values); the crate keeps some 100 bytes for each.
pub const MAX_ELEMENTS: u64 = 1 << 18;

/// The deepest nesting (the redis crate's parser stops at 100).
pub const MAX_DEPTH: usize = 64;

/// The most bytes in one reply: the largest bulk string and some room around it.
pub const MAX_REPLY_BYTES: u64 = MAX_BULK + (1 << 20);

/// The bound a peer crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overrun {
    /// A line longer than [`MAX_LINE`].
    Line,
    /// A bulk string announced with this many bytes, beyond [`MAX_BULK`].
    Bulk(u64),
    /// A length that is no number RESP writes (too many digits).
    Length,
    /// A negative length where the type has none (`!`, `=`, `%`, `|`).
    Negative,
    /// More than [`MAX_LINE`] bytes after a byte that starts no RESP value.
    Lost,
    /// More than [`MAX_ELEMENTS`] values in one reply.
    Elements,
    /// Nested deeper than [`MAX_DEPTH`].
    Depth,
    /// More than [`MAX_REPLY_BYTES`] in one reply.
    Bytes,
}

impl fmt::Display for Overrun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line => write!(
                f,
                "a reply line longer than {} KiB (is this a Redis server?)",
                MAX_LINE >> 10
            ),
            Self::Bulk(n) => write!(
                f,
                "a bulk string of {n} bytes, more than Redis sends ({} MiB)",
                MAX_BULK >> 20
            ),
            Self::Length => {
                f.write_str("a length of more than 19 digits (is this a Redis server?)")
            }
            Self::Negative => f.write_str("a negative length (is this a Redis server?)"),
            Self::Lost => f.write_str("bytes that are not RESP (is this a Redis server?)"),
            Self::Elements => write!(f, "a reply of more than {MAX_ELEMENTS} values"),
            Self::Depth => write!(f, "a reply nested more than {MAX_DEPTH} deep"),
            Self::Bytes => write!(f, "a reply longer than {} MiB", MAX_REPLY_BYTES >> 20),
        }
    }
}

impl std::error::Error for Overrun {}

/// Where the scanner is in the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Before a value's type byte.
    Type,
    /// Inside the line after type byte `kind`, `len` bytes into it; `cr`: its last byte so far
    /// is a CR (a line ends at CRLF only, as the redis crate reads it: a bare LF or CR is
    /// part of the line).
    Line { kind: u8, len: usize, cr: bool },
    /// Inside a bulk string: this many bytes left, its CRLF included.
    Body(u64),
    /// Past a byte that starts no RESP value, this many bytes ago: the crate refuses it and
    /// drops the connection; should it go on reading, at most [`MAX_LINE`] more get through.
    Opaque(usize),
}

/// Follows RESP framing byte by byte, keeping only counters: where it is, the number being
/// read, and for each open aggregate how many values it still needs.
#[derive(Debug, Clone)]
pub struct Scanner {
    at: At,
    /// The length being read on a length line: its sign, its digits so far.
    negative: bool,
    digits: u32,
    number: u64,
    /// Values still due in each open aggregate, innermost last.
    open: Vec<u64>,
    /// Values and bytes of the reply being read.
    values: u64,
    bytes: u64,
    /// Whole replies so far.
    replies: u64,
}

impl Default for Scanner {
    fn default() -> Self {
        Self {
            at: At::Type,
            negative: false,
            digits: 0,
            number: 0,
            open: Vec::new(),
            values: 0,
            bytes: 0,
            replies: 0,
        }
    }
}

impl Scanner {
    /// Follows `bytes`, the next ones read: an [`Overrun`] at the first bound they cross.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), Overrun> {
        let mut i = 0;
        while i < bytes.len() {
            match self.at {
                At::Opaque(after) => {
                    let after = after + (bytes.len() - i);
                    if after > MAX_LINE {
                        return Err(Overrun::Lost);
                    }
                    self.at = At::Opaque(after);
                    return Ok(());
                }
                At::Body(left) => {
                    let take = left.min((bytes.len() - i) as u64);
                    self.count_bytes(take)?;
                    i += take as usize;
                    if take == left {
                        self.at = At::Type;
                        self.complete();
                    } else {
                        self.at = At::Body(left - take);
                    }
                }
                At::Type => {
                    let kind = bytes[i];
                    i += 1;
                    self.count_bytes(1)?;
                    if !is_type(kind) {
                        self.at = At::Opaque(0);
                        continue;
                    }
                    self.values += 1;
                    if self.values > MAX_ELEMENTS {
                        return Err(Overrun::Elements);
                    }
                    (self.negative, self.digits, self.number) = (false, 0, 0);
                    self.at = At::Line {
                        kind,
                        len: 0,
                        cr: false,
                    };
                }
                At::Line { kind, len, cr } => {
                    let rest = &bytes[i..];
                    // The first LF right after a CR (the CR perhaps the last byte of the
                    // previous read).
                    let end = rest.iter().enumerate().position(|(j, &b)| {
                        b == b'\n' && if j == 0 { cr } else { rest[j - 1] == b'\r' }
                    });
                    let chunk = &rest[..end.map_or(rest.len(), |e| e + 1)];
                    let len = len + chunk.len();
                    if len > MAX_LINE + 2 {
                        return Err(Overrun::Line);
                    }
                    self.count_bytes(chunk.len() as u64)?;
                    if is_length(kind) {
                        self.read_digits(chunk)?;
                    }
                    i += chunk.len();
                    if end.is_none() {
                        let cr = chunk.last().map_or(cr, |&b| b == b'\r');
                        self.at = At::Line { kind, len, cr };
                    } else {
                        self.at = At::Type;
                        self.line_done(kind)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// How many whole replies the bytes fed so far hold.
    pub fn replies(&self) -> u64 {
        self.replies
    }

    /// Whether a byte that starts no RESP value was met: from there on no reply is followed,
    /// and at most [`MAX_LINE`] more bytes are let through.
    pub fn is_lost(&self) -> bool {
        matches!(self.at, At::Opaque(_))
    }

    /// Reads the digits of a length line (its CR and LF are not digits and are skipped).
    fn read_digits(&mut self, chunk: &[u8]) -> Result<(), Overrun> {
        for &b in chunk {
            match b {
                b'-' if self.digits == 0 => self.negative = true,
                b'0'..=b'9' => {
                    self.digits += 1;
                    if self.digits > 19 {
                        return Err(Overrun::Length);
                    }
                    self.number = self.number * 10 + u64::from(b - b'0');
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A whole line of type `kind` was read. Lengths are read as the redis crate reads them:
    /// `-0` is 0; a negative length is null (or empty) for `$`, `*`, `~` and `>`, and no
    /// length at all for `!`, `=`, `%` and `|` (the crate would wait for 2^64 bytes or refuse).
    fn line_done(&mut self, kind: u8) -> Result<(), Overrun> {
        let n = self.number;
        let negative = self.negative && n > 0;
        match kind {
            b'$' | b'!' | b'=' => {
                if negative && kind == b'$' {
                    self.complete(); // `$-1`: null
                } else if negative {
                    return Err(Overrun::Negative);
                } else if n > MAX_BULK {
                    return Err(Overrun::Bulk(n));
                } else {
                    self.at = At::Body(n + 2);
                }
            }
            b'*' | b'~' | b'>' | b'%' | b'|' => {
                if negative && matches!(kind, b'%' | b'|') {
                    return Err(Overrun::Negative);
                }
                let due = match kind {
                    b'%' => n.saturating_mul(2),
                    b'|' => n.saturating_mul(2).saturating_add(1), // then the value it annotates
                    _ if negative => 0,                            // `*-1`: null
                    _ => n,
                };
                if due == 0 {
                    self.complete();
                } else if self.values.saturating_add(due) > MAX_ELEMENTS {
                    return Err(Overrun::Elements);
                } else if self.open.len() >= MAX_DEPTH {
                    return Err(Overrun::Depth);
                } else {
                    self.open.push(due);
                }
            }
            _ => self.complete(),
        }
        Ok(())
    }

    /// A value is whole: its aggregate needs one fewer; a whole reply starts the counts anew.
    fn complete(&mut self) {
        loop {
            match self.open.last_mut() {
                None => {
                    (self.values, self.bytes) = (0, 0);
                    self.replies += 1;
                    return;
                }
                Some(due) => {
                    *due -= 1;
                    if *due > 0 {
                        return;
                    }
                    self.open.pop();
                }
            }
        }
    }

    fn count_bytes(&mut self, n: u64) -> Result<(), Overrun> {
        self.bytes += n;
        if self.bytes > MAX_REPLY_BYTES {
            return Err(Overrun::Bytes);
        }
        Ok(())
    }
}

/// Whether a value starts with this byte (RESP2 and RESP3, as the redis crate reads them).
fn is_type(kind: u8) -> bool {
    matches!(
        kind,
        b'+' | b'-'
            | b':'
            | b'_'
            | b'#'
            | b','
            | b'('
            | b'$'
            | b'!'
            | b'='
            | b'*'
            | b'~'
            | b'>'
            | b'%'
            | b'|'
    )
}

/// Whether a line of this type holds a length.
fn is_length(kind: u8) -> bool {
    matches!(kind, b'$' | b'!' | b'=' | b'*' | b'~' | b'>' | b'%' | b'|')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` one byte at a time and all at once: both give the same answer.
    fn scan(bytes: &[u8]) -> Result<Scanner, Overrun> {
        let mut whole = Scanner::default();
        let at_once = whole.feed(bytes);
        let mut bytewise = Scanner::default();
        let one_by_one = bytes.iter().try_for_each(|b| bytewise.feed(&[*b]));
        assert_eq!(at_once, one_by_one, "{:?}", String::from_utf8_lossy(bytes));
        at_once.map(|()| whole)
    }

    #[test]
    fn whole_replies_are_counted() {
        let mut s = Scanner::default();
        s.feed(b"+OK\r\n*2\r\n:1\r\n").unwrap();
        assert_eq!(s.replies(), 1);
        s.feed(b":2\r\n$1\r\nx\r\n").unwrap();
        assert_eq!(s.replies(), 3);
        assert!(!s.is_lost());
        s.feed(b"HTTP/1.1").unwrap();
        assert!(s.is_lost());
    }

    fn idle(s: &Scanner) -> bool {
        s.at == At::Type && s.open.is_empty() && s.values == 0 && s.bytes == 0
    }
    #[test]
    fn whole_replies_leave_it_idle() {
        for reply in [
            &b"+OK\r\n"[..],
            b"-ERR no\r\n",
            b":42\r\n",
            b"$3\r\nfoo\r\n",
            b"$0\r\n\r\n",
            b"$-1\r\n",
            b"*-1\r\n",
            b"*0\r\n",
            b"*2\r\n$1\r\na\r\n*1\r\n:1\r\n",
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n",
            b"_\r\n#t\r\n,1.5\r\n(123\r\n",
            b"%2\r\n+a\r\n:1\r\n+b\r\n*1\r\n:2\r\n",
            b"~2\r\n+a\r\n+b\r\n>3\r\n+message\r\n+c\r\n+m\r\n",
            b"|1\r\n+ttl\r\n:3\r\n$2\r\nhi\r\n",
            b"=15\r\ntxt:Some string\r\n!5\r\nERR x\r\n",
        ] {
            let s = scan(reply).unwrap();
            assert!(idle(&s), "{:?}: {s:?}", String::from_utf8_lossy(reply));
        }
    }

    #[test]
    fn a_reply_in_progress_is_not_idle() {
        for part in [
            &b"+OK"[..],
            b"$3\r\nfo",
            b"*2\r\n:1\r\n",
            b"|1\r\n+a\r\n+b\r\n",
        ] {
            assert!(!idle(&scan(part).unwrap()));
        }
    }

    #[test]
    fn an_endless_line_stops_at_its_bound() {
        for kind in [b'+', b'-', b':', b'$', b'*'] {
            let mut line = vec![kind];
            line.extend(std::iter::repeat_n(b' ', MAX_LINE));
            assert!(scan(&line).is_ok());
            line.extend_from_slice(b"   ");
            assert_eq!(scan(&line).unwrap_err(), Overrun::Line);
        }
        for kind in [b'$', b'*', b'%'] {
            let mut line = vec![kind];
            line.extend(std::iter::repeat_n(b'7', 20));
            assert_eq!(scan(&line).unwrap_err(), Overrun::Length);
        }
        let mut line = b"+".to_vec();
        line.extend(std::iter::repeat_n(b'x', MAX_LINE + 3));
        assert_eq!(scan(&line).unwrap_err(), Overrun::Line);
        assert_eq!(
            Overrun::Line.to_string(),
            "a reply line longer than 64 KiB (is this a Redis server?)"
        );
    }

    #[test]
    fn lengths_beyond_the_bounds_are_refused_at_their_header() {
        let bulk = format!("${}\r\n", MAX_BULK + 1);
        assert_eq!(
            scan(bulk.as_bytes()).unwrap_err(),
            Overrun::Bulk(MAX_BULK + 1)
        );
        assert!(scan(format!("${MAX_BULK}\r\n").as_bytes()).is_ok());
        let array = format!("*{MAX_ELEMENTS}\r\n");
        assert_eq!(scan(array.as_bytes()).unwrap_err(), Overrun::Elements);
        assert!(scan(format!("*{}\r\n", MAX_ELEMENTS - 1).as_bytes()).is_ok());
        assert_eq!(
            scan(b"*99999999999999999999\r\n").unwrap_err(),
            Overrun::Length
        );
        assert_eq!(scan(b"%150000\r\n").unwrap_err(), Overrun::Elements);
    }

    #[test]
    fn endless_arrays_and_nesting_stop_at_their_bounds() {
        let deep = b"*1\r\n".repeat(MAX_DEPTH + 1);
        assert_eq!(scan(&deep).unwrap_err(), Overrun::Depth);
        assert!(scan(&b"*1\r\n".repeat(MAX_DEPTH)).is_ok());
        // Many small arrays in one reply: the values add up across them.
        let mut many = b"*200000\r\n".to_vec();
        many.extend(b"*1\r\n:1\r\n".repeat(140_000));
        assert_eq!(scan(&many).unwrap_err(), Overrun::Elements);
    }

    #[test]
    fn counts_start_anew_with_each_reply() {
        let mut s = Scanner::default();
        let reply = format!(
            "*{}\r\n{}",
            MAX_ELEMENTS - 1,
            ":1\r\n".repeat((MAX_ELEMENTS - 1) as usize)
        );
        for _ in 0..3 {
            s.feed(reply.as_bytes()).unwrap();
            assert!(idle(&s));
        }
    }

    #[test]
    fn one_reply_holds_at_most_its_bound_of_bytes() {
        let mut s = Scanner::default();
        s.feed(format!("*2\r\n${MAX_BULK}\r\n").as_bytes()).unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..MAX_BULK >> 20 {
            s.feed(&chunk).unwrap();
        }
        s.feed(format!("\r\n${MAX_BULK}\r\n").as_bytes()).unwrap();
        let e = (0..2).try_for_each(|_| s.feed(&chunk)).unwrap_err();
        assert_eq!(e, Overrun::Bytes);
        assert_eq!(e.to_string(), "a reply longer than 513 MiB");
    }

    #[test]
    fn a_byte_that_is_not_resp_lets_one_line_more_through() {
        let mut s = scan(b"+OK\r\nHTTP/1.1 400").unwrap();
        assert!(s.is_lost());
        s.feed(&vec![b'x'; MAX_LINE - 20]).unwrap();
        assert_eq!(s.feed(&[b'x'; 64]).unwrap_err(), Overrun::Lost);
    }

    /// The redis crate ends a line at CRLF only: a bare LF (or CR) is part of the line, and a
    /// line of them is still one line (else `+a\n` and bytes without end would pass as
    /// replies while the crate buffered one endless line).
    #[test]
    fn a_line_ends_at_crlf_only() {
        let s = scan(b"+a\nb\rc\r\n").unwrap();
        assert!(idle(&s), "{s:?}");
        assert_eq!(s.replies(), 1);
        let mut bare = b"+a\n".to_vec();
        bare.extend(b":1\n".repeat(MAX_LINE / 3 + 2));
        assert_eq!(scan(&bare).unwrap_err(), Overrun::Line);
        // CR at the end of one read, LF at the start of the next.
        let mut s = Scanner::default();
        s.feed(b"+OK\r").unwrap();
        s.feed(b"\n").unwrap();
        assert!(idle(&s));
    }

    /// Lengths as the redis crate reads them: `-0` is 0, a negative length is null for `$`,
    /// `*`, `~` and `>`, and refused for `!`, `=`, `%` and `|` (the crate would wait for 2^64
    /// bytes, or refuse).
    #[test]
    fn negative_and_minus_zero_lengths_as_the_crate_reads_them() {
        for null in [
            &b"$-1\r\n"[..],
            b"*-1\r\n",
            b"~-1\r\n",
            b">-1\r\n",
            b">0\r\n",
        ] {
            assert!(idle(&scan(null).unwrap()), "{null:?}");
        }
        // `$-0` is an empty bulk string: its CRLF follows.
        assert!(idle(&scan(b"$-0\r\n\r\n").unwrap()));
        assert!(!idle(&scan(b"$-0\r\n").unwrap()));
        // `|-0` annotates the value that follows.
        assert!(!idle(&scan(b"|-0\r\n").unwrap()));
        assert!(idle(&scan(b"|-0\r\n:1\r\n").unwrap()));
        for refused in [&b"!-1\r\n"[..], b"=-5\r\n", b"%-1\r\n", b"|-2\r\n"] {
            assert_eq!(scan(refused).unwrap_err(), Overrun::Negative, "{refused:?}");
        }
    }
}
