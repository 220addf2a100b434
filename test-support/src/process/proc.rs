//! [`Proc`]: a binary running in the background, killed when dropped, started from a
//! [`command`]; its line waits are in `lines.rs`, its end in `run.rs`, its signals in
//! `signal.rs`.

use std::ffi::OsStr;
use std::fmt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use super::stream::Stream;

/// The default bound for one step of a test: a line to come, a short command to finish.
pub const STEP: Duration = Duration::from_secs(15);

/// How much of each stream a failure message shows (its end).
const TAIL: usize = 4000;

/// `Command::new(program)` without `RUST_LOG` in its environment, so that what a binary prints
/// does not depend on the developer's shell.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new(program);
    c.env_remove("RUST_LOG");
    c
}

/// The end of `bytes` as text, at most [`TAIL`] bytes of it.
pub(super) fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= TAIL {
        return text.into_owned();
    }
    let mut from = text.len() - TAIL;
    while !text.is_char_boundary(from) {
        from += 1;
    }
    format!("[...]{}", &text[from..])
}

/// `sh -c script`, through [`command`] (for the crate's own tests).
#[cfg(test)]
pub(crate) fn sh(script: &str) -> Command {
    let mut c = command("sh");
    c.args(["-c", script]);
    c
}

/// A binary running in the background, its stdout and stderr read on threads of their own:
/// lines are taken as they come ([`Proc::next_line`], [`Proc::wait_for_line`]...), and the whole
/// output is kept for [`Proc::finish`] and for failure messages. Every wait has a deadline.
/// Killed (SIGKILL) and reaped when dropped, pass or fail.
///
/// Signals and kills reach the process itself, not what it started: a grandchild lives on, and
/// if it holds the output open, [`Proc::finish`] waits 5 s at most for the end of output.
///
/// ```no_run
/// use test_support::{Proc, STEP, addr_in, command};
/// let mut server = Proc::spawn(command("echo-server").args(["--port", "0"]));
/// let addr = addr_in(&server.first_line(STEP));
/// // ... talk to addr ...
/// server.interrupt();
/// let run = server.finish(STEP);
/// assert_eq!(run.code(), Some(0), "{run:?}");
/// ```
pub struct Proc {
    pub(super) child: Child,
    pub(super) label: String,
    pub(super) out: Stream,
    pub(super) err: Stream,
    pub(super) step: Duration,
    pub(super) started: Instant,
}

impl fmt::Debug for Proc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Proc({}, pid {})", self.label, self.child.id())
    }
}

impl Proc {
    /// Starts `cmd` with stdin at end of file (`/dev/null`) and stdout and stderr piped (those
    /// three settings of `cmd` are replaced).
    ///
    /// # Panics
    /// When it cannot start.
    pub fn spawn(cmd: &mut Command) -> Self {
        Self::spawn_with(cmd, Stdio::null())
    }

    /// Starts `cmd` with a pipe for its stdin: write to the returned end, drop it to close it.
    ///
    /// # Panics
    /// When it cannot start.
    pub fn spawn_with_stdin(cmd: &mut Command) -> (Self, ChildStdin) {
        let mut p = Self::spawn_with(cmd, Stdio::piped());
        let stdin = p.take_stdin();
        (p, stdin)
    }

    /// Starts `cmd` with `stdin` as its standard input (a file, say).
    ///
    /// # Panics
    /// When it cannot start.
    pub fn spawn_with(cmd: &mut Command, stdin: Stdio) -> Self {
        Self::spawn_io(cmd, stdin, Stdio::piped(), Stdio::piped())
    }

    /// Starts `cmd` with the three streams given; an output that is not piped reads as empty
    /// (see [`Proc::spawn_closed`]).
    ///
    /// # Panics
    /// When it cannot start.
    pub(crate) fn spawn_io(cmd: &mut Command, stdin: Stdio, stdout: Stdio, stderr: Stdio) -> Self {
        let label = label_of(cmd);
        let mut child = cmd
            .stdin(stdin)
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {label}: {e}"));
        let out = Stream::read_piped(child.stdout.take());
        let err = Stream::read_piped(child.stderr.take());
        Self {
            child,
            label,
            out,
            err,
            step: STEP,
            started: Instant::now(),
        }
    }

    /// Sets the bound of [`Proc::expect_line`] ([`STEP`] unless set).
    #[must_use]
    pub fn with_step(mut self, step: Duration) -> Self {
        self.step = step;
        self
    }

    /// The write end of a piped stdin (spawned with `Stdio::piped()`), once.
    ///
    /// # Panics
    /// When stdin was not piped, or was already taken.
    pub(crate) fn take_stdin(&mut self) -> ChildStdin {
        self.child
            .stdin
            .take()
            .expect("a piped stdin, not yet taken")
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it has not exited yet.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills it with SIGKILL (no chance to clean up) and reaps it.
    pub fn kill(&mut self) {
        if self.is_running() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }

    /// `what`, with the command and the end of its stdout and stderr.
    pub(super) fn report(&self, what: &str) -> String {
        format!(
            "{} (pid {}): {what}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.label,
            self.child.id(),
            tail(&self.out.all()),
            tail(&self.err.all())
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `program arg1 arg2...`, for messages.
fn label_of(cmd: &Command) -> String {
    let mut label = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        label.push(' ');
        label.push_str(&arg.to_string_lossy());
    }
    label
}

#[cfg(test)]
mod tests {
    use std::panic::catch_unwind;

    use super::*;
    use crate::panics::panic_text;

    #[test]
    fn a_dropped_proc_is_killed() {
        let p = Proc::spawn(&mut sh("exec sleep 30"));
        let pid = p.pid();
        drop(p);
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn a_missing_binary_says_which() {
        let e = catch_unwind(|| Proc::spawn(&mut command("/nonexistent/binary")))
            .expect_err("cannot start");
        assert!(panic_text(&*e).starts_with("cannot start /nonexistent/binary: "));
    }
}
