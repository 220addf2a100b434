//! The messages a producer sends: the one of its command line, or the lines of stdin
//! (`--stdin`), read on a thread of their own so that a producer that stops early can say how
//! many it did not send without waiting forever on a stdin that never ends.

use std::io::BufRead;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::error::{Error, Left};

/// Lines read ahead of the publisher.
const READ_AHEAD: usize = 1024;

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
        let (tx, rx) = crossbeam_channel::bounded(READ_AHEAD);
        let spawned = std::thread::Builder::new()
            .name("stdin".into())
            .spawn(move || {
                for line in reader.lines() {
                    let item = match line {
                        Ok(l) if l.is_empty() => continue,
                        Ok(l) => Ok(l),
                        Err(e) => Err(Error::Input(e)),
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
