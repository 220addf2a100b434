//! A spawned binary with bounded waits: [`Proc`], [`run()`], [`Run`], and signals.
//!
//! - `proc.rs`: [`Proc`] itself: spawning, its process id, killing, and failure messages.
//! - `lines.rs`: the background readers of stdout and stderr, and `Proc`'s line waits.
//! - `run.rs`: the end of a process: [`Proc::finish`], [`Run`], the one-shot [`run()`].
//! - `signal.rs`: [`Signal`], [`send_signal`] and [`Proc::signal`].

use std::ffi::OsStr;
use std::process::Command;
use std::time::Duration;

mod lines;
mod proc;
mod run;
mod signal;

pub use proc::Proc;
pub(crate) use run::feed_and_finish;
pub use run::{Run, run};
pub use signal::{Signal, send_signal};

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
