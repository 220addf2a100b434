//! One output stream of a child ([`Stream`]), read on a thread of its own: its lines as they
//! come, and everything read so far.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// One output stream of a child, read on a thread of its own.
pub(super) struct Stream {
    /// Complete lines as they come (with their `\n`; the last one may lack it).
    lines: Receiver<Vec<u8>>,
    /// Everything read so far.
    all: Arc<Mutex<Vec<u8>>>,
    /// Disconnected when the reader has reached end of file.
    done: Receiver<()>,
    /// Lines taken so far.
    pub(super) seen: Vec<String>,
    /// End of file seen through `lines`.
    pub(super) ended: bool,
}

impl Stream {
    /// Reads a piped output; one that is not piped (`None`) reads as empty.
    pub(super) fn read_piped(piped: Option<impl Read + Send + 'static>) -> Self {
        match piped {
            Some(piped) => Self::read(piped),
            None => Self::read(io::empty()),
        }
    }

    fn read(mut source: impl Read + Send + 'static) -> Self {
        let (line_tx, lines) = mpsc::channel();
        let (done_tx, done) = mpsc::channel::<()>();
        let all = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&all);
        thread::spawn(move || {
            // Dropped at the end of the thread: end of file, `all` complete.
            let _done = done_tx;
            let mut buf = [0u8; 8192];
            let mut pending = Vec::new();
            loop {
                let n = match source.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                // Kept before sent: a line taken is always in `all` already.
                lock(&sink).extend_from_slice(&buf[..n]);
                pending.extend_from_slice(&buf[..n]);
                while let Some(i) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=i).collect();
                    // Nobody taking lines any more: keep reading, for `all`.
                    let _ = line_tx.send(line);
                }
            }
            if !pending.is_empty() {
                let _ = line_tx.send(pending);
            }
        });
        Self {
            lines,
            all,
            done,
            seen: Vec::new(),
            ended: false,
        }
    }

    pub(super) fn next(&mut self, within: Duration) -> Option<String> {
        if self.ended {
            return None;
        }
        match self.lines.recv_timeout(within) {
            Ok(line) => {
                let line = line_text(&line);
                self.seen.push(line.clone());
                Some(line)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                self.ended = true;
                None
            }
        }
    }

    /// Lines until one satisfies `want` (included); or why there was none.
    pub(super) fn wait_for(
        &mut self,
        want: impl Fn(&str) -> bool,
        within: Duration,
    ) -> Result<Vec<String>, String> {
        let deadline = Instant::now() + within;
        let mut taken = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                Some(line) => {
                    let hit = want(&line);
                    taken.push(line);
                    if hit {
                        return Ok(taken);
                    }
                }
                None if self.ended => return Err("the output ended".to_owned()),
                None => return Err(format!("none within {within:?}")),
            }
        }
    }

    /// Waits (at most `within`) until the reader has reached end of file.
    pub(super) fn wait_eof(&self, within: Duration) {
        let _ = self.done.recv_timeout(within);
    }

    /// Everything read so far, as bytes.
    pub(super) fn all(&self) -> MutexGuard<'_, Vec<u8>> {
        lock(&self.all)
    }

    /// Everything read so far, as text (invalid UTF-8 replaced).
    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.all()).into_owned()
    }
}

fn line_text(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8_lossy(line).into_owned()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
