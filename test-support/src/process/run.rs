//! The end of a process: [`Proc::finish`] and what it did ([`Run`]); [`run`], a binary run to
//! the end with some stdin.

use std::fmt;
use std::io::Write;
use std::process::{ChildStdin, Command, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

use super::proc::{Proc, tail};

/// How often the exit of a child is polled.
const POLL: Duration = Duration::from_millis(10);

/// How long, once a child has exited, its output may take to reach end of file (a grandchild
/// holding the pipe open would otherwise keep the test waiting).
const OUTPUT_GRACE: Duration = Duration::from_secs(5);

/// Runs `cmd` to the end with `stdin` as its standard input (then closed), and returns what it
/// did.
///
/// # Panics
/// When it cannot start, or when it has not exited within `within`: it is killed, and the
/// message has what it printed.
pub fn run(cmd: &mut Command, stdin: &[u8], within: Duration) -> Run {
    let (proc, input) = Proc::spawn_with_stdin(cmd);
    feed_and_finish(proc, input, stdin, within)
}

/// Writes `stdin` to `input` (then closes it) on a thread of its own and waits for `proc` to
/// exit, within `within` ([`Proc::finish`]).
pub(crate) fn feed_and_finish(
    proc: Proc,
    mut input: ChildStdin,
    stdin: &[u8],
    within: Duration,
) -> Run {
    let data = stdin.to_vec();
    // A child that does not read its input must not block the test: the feeder alone waits,
    // and it ends when the child exits (the pipe breaks) or is killed by `finish`.
    thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    proc.finish(within)
}

/// What a finished process did ([`Proc::finish`], [`run`]).
#[derive(Clone)]
pub struct Run {
    /// How it exited.
    pub status: ExitStatus,
    /// Everything it wrote to stdout, as bytes.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr (invalid UTF-8 replaced).
    pub stderr: String,
    /// From the start to the exit.
    pub took: Duration,
    label: String,
}

impl Run {
    /// The exit code; `None` when a signal ended it.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Stdout as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Stdout's lines (without their `\n` or `\r\n`).
    pub fn lines(&self) -> Vec<String> {
        self.stdout_text().lines().map(str::to_owned).collect()
    }

    /// Stderr's lines.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }

    /// Fails the test, showing everything, unless the exit code is `code`.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), Some(code), "unexpected exit code: {self:?}");
        self
    }

    /// Fails the test, showing everything, unless the exit code is 0.
    pub fn assert_success(&self) -> &Self {
        self.assert_code(0)
    }
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.label,
            self.status,
            self.took,
            tail(&self.stdout),
            tail(self.stderr.as_bytes())
        )
    }
}

impl Proc {
    /// Waits for the exit and returns the whole output (lines already taken included).
    ///
    /// # Panics
    /// When it has not exited within `within`: it is killed, and the message has its stdout and
    /// stderr.
    pub fn finish(mut self, within: Duration) -> Run {
        if self.exit_within(within).is_none() {
            self.kill();
            self.wait_output(Duration::from_secs(1));
            panic!(
                "{}",
                self.report(&format!("still running after {within:?}: killed"))
            );
        }
        self.collect()
    }

    /// Like [`Proc::finish`], but a process still running after `within` is killed and its
    /// [`Run`] returned (ended by SIGKILL) instead of failing the test: for cleanups, which
    /// must not panic.
    pub fn finish_or_kill(mut self, within: Duration) -> Run {
        if self.exit_within(within).is_none() {
            self.kill();
        }
        self.collect()
    }

    /// The exit status, once it has exited, if it does within `within`.
    fn exit_within(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) => {}
                Err(e) => panic!("cannot wait for {}: {e}", self.label),
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(POLL);
        }
    }

    /// The whole output of an exited (and reaped) process.
    fn collect(&mut self) -> Run {
        let status = self.child.wait().expect("an exited child's status");
        let took = self.started.elapsed();
        self.wait_output(OUTPUT_GRACE);
        Run {
            status,
            stdout: self.out.all().clone(),
            stderr: self.err.text(),
            took,
            label: self.label.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use super::*;
    use crate::panics::panic_text;
    use crate::process::sh;
    use crate::{STEP, command};

    #[test]
    fn first_line_then_finish_kills_what_does_not_exit() {
        let mut p = Proc::spawn(&mut sh("echo hi; echo oops >&2; exec sleep 30"));
        let pid = p.pid();
        assert_eq!(p.first_line(STEP), "hi");
        let started = Instant::now();
        let e = catch_unwind(AssertUnwindSafe(|| p.finish(Duration::from_millis(300))))
            .expect_err("finish must fail the test");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        let text = panic_text(&*e);
        assert!(text.contains("still running after 300ms: killed"), "{text}");
        assert!(text.contains("hi") && text.contains("oops"), "{text}");
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "pid {pid} is still there"
        );
    }

    #[test]
    fn finish_collects_everything_and_the_code() {
        let mut p = Proc::spawn(&mut sh(
            "printf 'a\\nb\\r\\nno newline'; echo err >&2; exit 3",
        ));
        assert_eq!(p.next_line(STEP).as_deref(), Some("a"));
        let run = p.finish(STEP);
        assert_eq!(run.code(), Some(3));
        assert_eq!(run.stdout, b"a\nb\r\nno newline");
        assert_eq!(run.lines(), ["a", "b", "no newline"]);
        assert_eq!(run.stderr, "err\n");
        assert!(!run.success());
        run.assert_code(3);
    }

    #[test]
    fn run_feeds_stdin_and_is_bounded() {
        let r = run(&mut command("cat"), b"hello\nworld", STEP);
        r.assert_success();
        assert_eq!(r.stdout, b"hello\nworld");

        // A child that never reads a large input and never exits.
        let big = vec![b'x'; 1 << 20];
        let started = Instant::now();
        let e = catch_unwind(|| run(&mut sh("exec sleep 30"), &big, Duration::from_millis(300)))
            .expect_err("killed");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(panic_text(&*e).contains("sh -c exec sleep 30 (pid "));
    }

    #[test]
    fn finish_or_kill_returns_instead_of_failing() {
        let r = Proc::spawn(&mut sh("echo partial; exec sleep 30"))
            .finish_or_kill(Duration::from_millis(300));
        assert_eq!(r.code(), None, "killed by a signal");
        assert_eq!(r.stdout_text(), "partial\n");
    }
}
