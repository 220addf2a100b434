//! [`Proc`]'s waits for the lines of its stdout and stderr (each read on a thread of its own:
//! `stream.rs`).

use std::time::Duration;

use super::proc::Proc;

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

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::time::Instant;

    use super::*;
    use crate::STEP;
    use crate::panics::panic_text;
    use crate::process::sh;

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
