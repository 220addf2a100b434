//! A binary whose stdout or stderr is a pipe its reader has already closed, as in
//! `tool | head -c0` or a service manager that went away: [`Proc::spawn_closed`],
//! [`run_with_closed_stdout`], [`run_with_closed_stderr`].
//!
//! Every write to the closed stream fails with `EPIPE` (Rust programs ignore `SIGPIPE`; a
//! program that does not is killed by it, as a shell's `echo` is). `println!` and `eprintln!`
//! panic there: these helpers are how a test checks that a binary does not. The closed stream
//! reads as empty in the [`Run`] and through [`Proc`]'s line waits; the other one is read as
//! usual.
//!
//! ```no_run
//! use std::process::Stdio;
//! use test_support::{Closed, Proc, STEP, command, run_with_closed_stdout};
//!
//! // `echo-client | head -c0`: exit 0, nothing on stderr.
//! let run = run_with_closed_stdout(command("echo-client").arg("4000"), b"", STEP);
//! assert_eq!((run.code(), run.stderr.as_str()), (Some(0), ""));
//!
//! // A server whose stderr is closed still stops cleanly on SIGTERM.
//! let mut server = Proc::spawn_closed(
//!     command("echo-server").args(["--port", "0"]),
//!     Closed::Stderr,
//!     Stdio::null(),
//! );
//! let _listening = server.first_line(STEP);
//! server.terminate();
//! assert_eq!(server.finish(STEP).code(), Some(0));
//! ```

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{Proc, Run, feed_and_finish};

/// Which output stream of the binary is a pipe already closed by its reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// Standard output (`tool | head -c0`).
    Stdout,
    /// Standard error.
    Stderr,
}

impl Proc {
    /// Starts `cmd` with `stdin` as its standard input and the `closed` stream a pipe whose read
    /// end is already closed; the other stream is piped and read as in [`Proc::spawn`]. The
    /// closed stream reads as empty (no lines, `""` in the [`Run`]). Killed when dropped, like
    /// every `Proc`.
    ///
    /// # Panics
    /// When no pipe can be made, or `cmd` cannot start.
    pub fn spawn_closed(cmd: &mut Command, closed: Closed, stdin: Stdio) -> Self {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let closed_end = Stdio::from(writer);
        match closed {
            Closed::Stdout => Self::spawn_io(cmd, stdin, closed_end, Stdio::piped()),
            Closed::Stderr => Self::spawn_io(cmd, stdin, Stdio::piped(), closed_end),
        }
    }
}

/// Runs `cmd` to the end with its stdout a closed pipe (`cmd | head -c0`) and `stdin` as its
/// standard input (then closed), like [`run`](crate::run): [`Run::stdout`] is empty,
/// [`Run::stderr`] is everything the binary wrote there.
///
/// # Panics
/// When it cannot start, or when it has not exited within `within`: it is killed, and the
/// message has what it printed.
pub fn run_with_closed_stdout(cmd: &mut Command, stdin: &[u8], within: Duration) -> Run {
    run_with_closed(cmd, Closed::Stdout, stdin, within)
}

/// Runs `cmd` to the end with its stderr a closed pipe and `stdin` as its standard input (then
/// closed): [`Run::stderr`] is empty, [`Run::stdout`] is everything the binary printed.
///
/// # Panics
/// As [`run_with_closed_stdout`].
pub fn run_with_closed_stderr(cmd: &mut Command, stdin: &[u8], within: Duration) -> Run {
    run_with_closed(cmd, Closed::Stderr, stdin, within)
}

fn run_with_closed(cmd: &mut Command, closed: Closed, stdin: &[u8], within: Duration) -> Run {
    let mut proc = Proc::spawn_closed(cmd, closed, Stdio::piped());
    let input = proc.take_stdin();
    feed_and_finish(proc, input, stdin, within)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::STEP;
    use crate::panics::panic_text;
    use crate::process::sh;

    #[test]
    fn a_write_to_the_closed_stdout_fails_and_stderr_is_read() {
        // A shell does not ignore SIGPIPE: its first write to stdout kills it.
        let run = run_with_closed_stdout(
            &mut sh("echo first >&2; echo out; echo never >&2"),
            b"",
            STEP,
        );
        assert_eq!(run.stderr, "first\n");
        assert_eq!(run.code(), None, "killed by SIGPIPE: {run:?}");
        assert_eq!(run.stdout, b"");

        // Ignoring SIGPIPE, as Rust programs do: the write fails instead (EPIPE).
        let run = run_with_closed_stdout(
            &mut sh("trap '' PIPE; echo out || echo 'the write failed' >&2; exit 3"),
            b"",
            STEP,
        );
        assert!(run.stderr.ends_with("the write failed\n"), "{run:?}");
        assert_eq!(run.code(), Some(3));
    }

    #[test]
    fn a_write_to_the_closed_stderr_fails_and_stdout_is_read() {
        let run = run_with_closed_stderr(
            &mut sh("trap '' PIPE; echo out; echo err >&2 || echo 'stderr is closed'"),
            b"",
            STEP,
        );
        assert_eq!(run.stdout_text(), "out\nstderr is closed\n");
        assert_eq!(run.stderr, "");
        run.assert_success();
    }

    #[test]
    fn stdin_is_fed_and_the_wait_is_bounded() {
        let run = run_with_closed_stdout(&mut sh("wc -c >&2"), b"12345", STEP);
        assert_eq!(run.stderr.trim(), "5");

        let started = Instant::now();
        let e = std::panic::catch_unwind(|| {
            run_with_closed_stderr(&mut sh("exec sleep 30"), b"", Duration::from_millis(300))
        })
        .expect_err("killed after the bound");
        assert!(started.elapsed() < Duration::from_secs(5));
        let text = panic_text(&*e);
        assert!(text.contains("still running after 300ms: killed"), "{text}");
    }

    #[test]
    fn a_spawned_proc_with_a_closed_output_takes_signals_and_lines() {
        let script = "trap 'echo got-term; exit 7' TERM; echo ready; \
                      while :; do sleep 0.05; done";
        let mut p = Proc::spawn_closed(&mut sh(script), Closed::Stderr, Stdio::null());
        p.expect_line("ready");
        p.terminate();
        let run = p.finish(STEP);
        assert_eq!(run.code(), Some(7), "{run:?}");
        assert_eq!(run.lines(), ["ready", "got-term"]);

        let mut p = Proc::spawn_closed(
            &mut sh("echo ready >&2; exec sleep 30"),
            Closed::Stdout,
            Stdio::null(),
        );
        p.wait_for_err_line(|l| l == "ready", STEP);
        assert_eq!(
            p.next_line(Duration::from_millis(100)),
            None,
            "stdout is empty"
        );
    }
}
