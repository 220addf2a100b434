//! The messages a producer sends: the one of its command line, or the lines of stdin
//! (`--stdin`), read on a thread of their own so that a producer that stops early can say how
//! many it did not send without waiting forever on a stdin that never ends.

use std::io::BufRead;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::error::{Error, Left};

/// Lines read ahead of the publisher.
const READ_AHEAD: usize = 1024;

/// The longest line taken from stdin: RabbitMQ's largest message by default (128 MiB). A longer
/// one is an error before it is read whole (a 200 MB line would be refused by the broker).
pub const MAX_LINE: usize = 128 * 1024 * 1024;

/// A producer's messages, in order (an iterator; a read error from stdin is an item too).
#[derive(Debug)]
pub struct Messages {
    rx: Receiver<Result<String, Error>>,
}

impl Messages {
    /// One message.
    pub fn one(text: impl Into<String>) -> Self {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let _ = tx.send(Ok(text.into()));
        Self { rx }
    }

    /// The lines of stdin, empty ones skipped.
    pub fn stdin() -> Self {
        Self::lines(std::io::BufReader::new(std::io::stdin()))
    }

    /// The lines of `reader`, empty ones skipped, read on a thread of their own.
    pub fn lines(reader: impl BufRead + Send + 'static) -> Self {
        Self::lines_up_to(reader, MAX_LINE)
    }

    /// [`Messages::lines`], each line at most `max` bytes.
    pub fn lines_up_to(mut reader: impl BufRead + Send + 'static, max: usize) -> Self {
        let (tx, rx) = crossbeam_channel::bounded(READ_AHEAD);
        let spawned = std::thread::Builder::new()
            .name("stdin".into())
            .spawn(move || {
                let mut number = 0u64;
                while let Some(line) = bounded_line(&mut reader, max) {
                    number += 1;
                    let item = match line {
                        Ok(l) if l.is_empty() => continue,
                        Ok(l) => Ok(l),
                        Err(None) => Err(Error::LineTooLong { number, max }),
                        Err(Some(e)) => Err(Error::Input(e)),
                    };
                    let failed = item.is_err();
                    if tx.send(item).is_err() || failed {
                        return;
                    }
                }
            });
        if let Err(e) = spawned {
            let (tx, rx) = crossbeam_channel::bounded(1);
            let _ = tx.send(Err(Error::Input(e)));
            return Self { rx };
        }
        Self { rx }
    }

    /// Counts the messages not taken yet, for at most `within` (a stdin that stays open is
    /// counted as far as it went).
    pub fn left(&self, within: Duration) -> Left {
        let deadline = Instant::now() + within;
        let mut n = 0u64;
        loop {
            match self.rx.recv_deadline(deadline) {
                Ok(_) => n += 1,
                Err(RecvTimeoutError::Disconnected) => return Left::Exactly(n),
                Err(RecvTimeoutError::Timeout) => return Left::AtLeast(n),
            }
        }
    }
}

/// The next line of `reader` without its end (`\n` or `\r\n`); `Err(None)` when it is over
/// `max` bytes (what was read of it is dropped), `None` at the end.
fn bounded_line(
    reader: &mut impl BufRead,
    max: usize,
) -> Option<Result<String, Option<std::io::Error>>> {
    use std::io::Read;
    let mut buf = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(2);
    match reader.by_ref().take(limit).read_until(b'\n', &mut buf) {
        Ok(0) => return None,
        Ok(_) => {}
        Err(e) => return Some(Err(Some(e))),
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    if buf.len() > max {
        return Some(Err(None));
    }
    Some(
        String::from_utf8(buf)
            .map_err(|e| Some(std::io::Error::new(std::io::ErrorKind::InvalidData, e))),
    )
}

impl Iterator for Messages {
    type Item = Result<String, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rx.recv().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_over_the_bound_is_an_error() {
        let mut m = Messages::lines_up_to(&b"abc\r\nabcdef\nx\n"[..], 4);
        assert_eq!(m.next().unwrap().unwrap(), "abc");
        assert_eq!(
            m.next().unwrap().unwrap_err().to_string(),
            "line 2 of stdin is over 4 bytes (RabbitMQ's largest message is 128 MiB by default)"
        );
    }

    #[test]
    fn lines_skip_empty_ones_and_the_rest_is_counted() {
        let mut m = Messages::lines(&b"a\n\nb\nc\nd\n"[..]);
        assert_eq!(m.next().unwrap().unwrap(), "a");
        assert_eq!(m.next().unwrap().unwrap(), "b");
        assert_eq!(m.left(Duration::from_secs(5)), Left::Exactly(2));
        let mut one = Messages::one("x");
        assert_eq!(one.next().unwrap().unwrap(), "x");
        assert!(one.next().is_none());
        assert!(one.left(Duration::ZERO).is_none());
        assert_eq!(
            Left::AtLeast(3).to_string(),
            "at least 3 (stdin still open)"
        );
    }
}
