//! Signals: [`Signal`], [`send_signal`] to any process, [`Proc::signal`] to a spawned one.

use rustix::process::{Pid, kill_process};

use super::proc::Proc;

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

impl Proc {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::STEP;
    use crate::process::sh;

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
}
