//! A child's stdout and stderr, each read on a thread of its own ([`Stream`]), and [`Proc`]'s
//! waits for their lines.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::Proc;

impl Proc {
    /// The next stdout line not yet taken (without its `\n`), or `None` at end of output or
    /// when none comes within `within`.
    pub fn next_line(&mut self, within: Duration) -> Option<String> {
        self.out.next(within)
    }

    /// The next stderr line not yet taken, or `None` at end of output or after `within`.
    pub fn next_err_line(&mut self, within: Duration) -> Option<String> {
        self.err.next(within)
    }

    /// The next stdout line (the first one, right after the start: a server's `listening on
    /// ...` line).
    ///
    /// # Panics
    /// When none comes within `within` (the message has stdout and stderr so far).
    pub fn first_line(&mut self, within: Duration) -> String {
        match self.out.next(within) {
            Some(line) => line,
            None => panic!("{}", self.report(&self.no_line("a first line", within))),
        }
    }

    /// Fails the test unless the next stdout line, within [`STEP`](crate::STEP) (or
    /// [`Proc::with_step`]), is `expected`.
    pub fn expect_line(&mut self, expected: &str) {
        let step = self.step;
        let Some(line) = self.out.next(step) else {
            panic!(
                "{}",
                self.report(&self.no_line(&format!("the line {expected:?}"), step))
            );
        };
        assert_eq!(
            line,
            expected,
            "{}",
            self.report("unexpected line (the last one on stdout)")
        );
    }

    /// Takes stdout lines until one satisfies `want`; returns it and every line taken before
    /// it.
    ///
    /// # Panics
    /// When none does within `within`, or stdout ends first.
    pub fn wait_for_line(&mut self, want: impl Fn(&str) -> bool, within: Duration) -> Vec<String> {
        self.wait_on(false, want, within)
    }

    /// Like [`Proc::wait_for_line`], on stderr.
    pub fn wait_for_err_line(
        &mut self,
        want: impl Fn(&str) -> bool,
        within: Duration,
    ) -> Vec<String> {
        self.wait_on(true, want, within)
    }

    /// Every stdout line taken so far.
    pub fn seen(&self) -> &[String] {
        &self.out.seen
    }

    /// Every stderr line taken so far.
    pub fn seen_err(&self) -> &[String] {
        &self.err.seen
    }

    /// All of stdout read so far, taken as lines or not.
    pub fn stdout_so_far(&self) -> String {
        self.out.text()
    }

    /// All of stderr read so far.
    pub fn stderr_so_far(&self) -> String {
        self.err.text()
    }

    /// [`Proc::wait_for_line`] on stderr or stdout.
    fn wait_on(
        &mut self,
        stderr: bool,
        want: impl Fn(&str) -> bool,
        within: Duration,
    ) -> Vec<String> {
        let (stream, name) = if stderr {
            (&mut self.err, "stderr")
        } else {
            (&mut self.out, "stdout")
        };
        match stream.wait_for(want, within) {
            Ok(lines) => lines,
            Err(why) => panic!("{}", self.report(&format!("no such {name} line: {why}"))),
        }
    }

    fn no_line(&self, what: &str, within: Duration) -> String {
        if self.out.ended {
            format!("stdout ended before {what}")
        } else {
            format!("{what} did not come within {within:?}")
        }
    }

    /// Waits (at most `within` for each) until both readers have reached end of file.
    pub(super) fn wait_output(&self, within: Duration) {
        self.out.wait_eof(within);
        self.err.wait_eof(within);
    }
}

/// One output stream of a child, read on a thread of its own.
pub(super) struct Stream {
    /// Complete lines as they come (with their `\n`; the last one may lack it).
    lines: Receiver<Vec<u8>>,
    /// Everything read so far.
    all: Arc<Mutex<Vec<u8>>>,
    /// Disconnected when the reader has reached end of file.
    done: Receiver<()>,
    /// Lines taken so far.
    seen: Vec<String>,
    /// End of file seen through `lines`.
    ended: bool,
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

    fn next(&mut self, within: Duration) -> Option<String> {
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
    fn wait_for(
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
    fn wait_eof(&self, within: Duration) {
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

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use super::*;
    use crate::STEP;
    use crate::testing::{panic_text, sh};

    #[test]
    fn next_line_is_none_at_end_of_output_and_after_the_bound() {
        let mut p = Proc::spawn(&mut sh("echo one; exec sleep 30"));
        assert_eq!(p.next_line(STEP).as_deref(), Some("one"));
        let started = Instant::now();
        assert_eq!(p.next_line(Duration::from_millis(100)), None);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(p.is_running());
        drop(p);

        let mut p = Proc::spawn(&mut sh("echo last"));
        assert_eq!(p.next_line(STEP).as_deref(), Some("last"));
        assert_eq!(p.next_line(STEP), None);
        assert_eq!(p.seen(), ["last"]);
    }

    #[test]
    fn wait_for_line_returns_the_lines_up_to_the_match_and_fails_in_time() {
        let mut p = Proc::spawn(&mut sh("echo a; echo b >&2; echo c; echo d; exec sleep 30"));
        assert_eq!(p.wait_for_line(|l| l == "c", STEP), ["a", "c"]);
        assert_eq!(p.wait_for_err_line(|l| l == "b", STEP), ["b"]);
        let started = Instant::now();
        let e = catch_unwind(AssertUnwindSafe(|| {
            p.wait_for_line(|l| l == "never", Duration::from_millis(200))
        }))
        .expect_err("no such line");
        assert!(started.elapsed() < Duration::from_secs(3));
        let text = panic_text(&*e);
        assert!(text.contains("no such stdout line: none within"), "{text}");

        let mut p = Proc::spawn(&mut sh("echo a"));
        let e = catch_unwind(AssertUnwindSafe(|| p.wait_for_line(|l| l == "z", STEP)))
            .expect_err("the output ends");
        assert!(panic_text(&*e).contains("the output ended"));
    }

    #[test]
    fn expect_line_names_what_it_wanted() {
        let mut p =
            Proc::spawn(&mut sh("echo ready; exec sleep 30")).with_step(Duration::from_millis(200));
        p.expect_line("ready");
        let e = catch_unwind(AssertUnwindSafe(|| p.expect_line("more"))).expect_err("none");
        let text = panic_text(&*e);
        assert!(
            text.contains("the line \"more\" did not come within 200ms"),
            "{text}"
        );
    }
}
