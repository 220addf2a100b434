//! A spawned binary with bounded waits: [`Proc`], [`run`], [`Run`], and signals.

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{Pid, kill_process};

/// The default bound for one step of a test: a line to come, a short command to finish.
pub const STEP: Duration = Duration::from_secs(15);

/// How often the exit of a child is polled.
const POLL: Duration = Duration::from_millis(10);

/// How long, once a child has exited, its output may take to reach end of file (a grandchild
/// holding the pipe open would otherwise keep the test waiting).
const OUTPUT_GRACE: Duration = Duration::from_secs(5);

/// How much of each stream a failure message shows (its end).
const TAIL: usize = 4000;

/// A signal sent to a process ([`Proc::signal`], [`send_signal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Int,
    /// SIGTERM: what `kill` and service managers send.
    Term,
    /// SIGHUP.
    Hup,
    /// SIGQUIT.
    Quit,
    /// SIGKILL: no chance to clean up.
    Kill,
    /// SIGSTOP: the process freezes (a stalled peer), until [`Signal::Cont`].
    Stop,
    /// SIGCONT: a stopped process goes on.
    Cont,
    /// SIGUSR1.
    Usr1,
    /// SIGUSR2.
    Usr2,
}

impl Signal {
    fn raw(self) -> rustix::process::Signal {
        use rustix::process::Signal as S;
        match self {
            Self::Int => S::INT,
            Self::Term => S::TERM,
            Self::Hup => S::HUP,
            Self::Quit => S::QUIT,
            Self::Kill => S::KILL,
            Self::Stop => S::STOP,
            Self::Cont => S::CONT,
            Self::Usr1 => S::USR1,
            Self::Usr2 => S::USR2,
        }
    }

    /// Its name: `SIGINT`, `SIGTERM`...
    pub fn name(self) -> &'static str {
        match self {
            Self::Int => "SIGINT",
            Self::Term => "SIGTERM",
            Self::Hup => "SIGHUP",
            Self::Quit => "SIGQUIT",
            Self::Kill => "SIGKILL",
            Self::Stop => "SIGSTOP",
            Self::Cont => "SIGCONT",
            Self::Usr1 => "SIGUSR1",
            Self::Usr2 => "SIGUSR2",
        }
    }
}

/// Sends `sig` to the process `pid` (one not spawned through [`Proc`]; a `Proc` has
/// [`Proc::signal`], which never signals a process already reaped).
///
/// # Panics
/// When the signal cannot be sent (no such process).
pub fn send_signal(pid: u32, sig: Signal) {
    let target = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .unwrap_or_else(|| panic!("{pid} is not a process id"));
    kill_process(target, sig.raw())
        .unwrap_or_else(|e| panic!("cannot send {} to process {pid}: {e}", sig.name()));
}

/// `Command::new(program)` without `RUST_LOG` in its environment, so that what a binary prints
/// does not depend on the developer's shell.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new(program);
    c.env_remove("RUST_LOG");
    c
}

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
    child: Child,
    label: String,
    out: Stream,
    err: Stream,
    step: Duration,
    started: Instant,
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
        let out = match child.stdout.take() {
            Some(piped) => Stream::read(piped),
            None => Stream::read(io::empty()),
        };
        let err = match child.stderr.take() {
            Some(piped) => Stream::read(piped),
            None => Stream::read(io::empty()),
        };
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

    /// Fails the test unless the next stdout line, within [`STEP`] (or [`Proc::with_step`]), is
    /// `expected`.
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
        match self.out.wait_for(want, within) {
            Ok(lines) => lines,
            Err(why) => panic!("{}", self.report(&format!("no such stdout line: {why}"))),
        }
    }

    /// Like [`Proc::wait_for_line`], on stderr.
    pub fn wait_for_err_line(
        &mut self,
        want: impl Fn(&str) -> bool,
        within: Duration,
    ) -> Vec<String> {
        match self.err.wait_for(want, within) {
            Ok(lines) => lines,
            Err(why) => panic!("{}", self.report(&format!("no such stderr line: {why}"))),
        }
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
        String::from_utf8_lossy(&lock(&self.out.all)).into_owned()
    }

    /// All of stderr read so far.
    pub fn stderr_so_far(&self) -> String {
        String::from_utf8_lossy(&lock(&self.err.all)).into_owned()
    }

    /// Whether it has not exited yet.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends `sig`; does nothing when the process has already exited (and was reaped, so its id
    /// may belong to another process now).
    ///
    /// # Panics
    /// When the signal cannot be sent.
    pub fn signal(&mut self, sig: Signal) {
        if self.is_running() {
            kill_process(Pid::from_child(&self.child), sig.raw())
                .unwrap_or_else(|e| panic!("cannot send {} to {}: {e}", sig.name(), self.label));
        }
    }

    /// Sends SIGINT (Ctrl-C).
    pub fn interrupt(&mut self) {
        self.signal(Signal::Int);
    }

    /// Sends SIGTERM.
    pub fn terminate(&mut self) {
        self.signal(Signal::Term);
    }

    /// Kills it with SIGKILL (no chance to clean up) and reaps it.
    pub fn kill(&mut self) {
        if self.is_running() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }

    /// Waits for the exit and returns the whole output (lines already taken included).
    ///
    /// # Panics
    /// When it has not exited within `within`: it is killed, and the message has its stdout and
    /// stderr.
    pub fn finish(mut self, within: Duration) -> Run {
        if self.exit_within(within).is_none() {
            self.kill();
            self.out.wait_eof(Duration::from_secs(1));
            self.err.wait_eof(Duration::from_secs(1));
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
        self.out.wait_eof(OUTPUT_GRACE);
        self.err.wait_eof(OUTPUT_GRACE);
        Run {
            status,
            stdout: lock(&self.out.all).clone(),
            stderr: String::from_utf8_lossy(&lock(&self.err.all)).into_owned(),
            took,
            label: self.label.clone(),
        }
    }

    fn no_line(&self, what: &str, within: Duration) -> String {
        if self.out.ended {
            format!("stdout ended before {what}")
        } else {
            format!("{what} did not come within {within:?}")
        }
    }

    /// `what`, with the command and the end of its stdout and stderr.
    fn report(&self, what: &str) -> String {
        format!(
            "{} (pid {}): {what}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.label,
            self.child.id(),
            tail(&lock(&self.out.all)),
            tail(&lock(&self.err.all))
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One output stream of a child, read on a thread of its own.
struct Stream {
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
}

fn line_text(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8_lossy(line).into_owned()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
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

/// The end of `bytes` as text, at most [`TAIL`] bytes of it.
fn tail(bytes: &[u8]) -> String {
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

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = command("sh");
        c.args(["-c", script]);
        c
    }

    fn panic_text(e: &(dyn std::any::Any + Send)) -> String {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default()
    }

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

    #[test]
    fn interrupt_and_terminate_reach_the_process() {
        let script = "trap 'echo got-int; exit 7' INT; trap 'echo got-term; exit 8' TERM; \
                      echo ready; while :; do sleep 0.05; done";
        let mut p = Proc::spawn(&mut sh(script));
        p.expect_line("ready");
        p.interrupt();
        let run = p.finish(STEP);
        assert_eq!(run.code(), Some(7), "{run:?}");
        assert_eq!(run.lines(), ["ready", "got-int"]);

        let mut p = Proc::spawn(&mut sh(script));
        p.expect_line("ready");
        p.terminate();
        assert_eq!(p.finish(STEP).code(), Some(8));
    }

    #[test]
    fn stop_and_cont_freeze_a_process() {
        let mut p = Proc::spawn(&mut sh("echo ready; exec sleep 30"));
        p.expect_line("ready");
        p.signal(Signal::Stop);
        send_signal(p.pid(), Signal::Cont);
        p.kill();
        assert!(!p.is_running());
        // Signalling a reaped process does nothing.
        p.interrupt();
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
