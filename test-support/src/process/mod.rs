//! A spawned binary with bounded waits: [`Proc`], [`run()`], [`Run`], and signals.
//!
//! - `proc.rs`: [`Proc`] itself: [`command`], spawning, its process id, killing, failure
//!   messages, and [`STEP`], the default bound of a wait.
//! - `stream.rs`: the background reader of one output stream.
//! - `lines.rs`: `Proc`'s line waits.
//! - `run.rs`: the end of a process: [`Proc::finish`], [`Run`], the one-shot [`run()`].
//! - `signal.rs`: [`Signal`], [`send_signal`] and [`Proc::signal`].
//!
//! The children import each other (`proc.rs` and `stream.rs` first), never this file: it only
//! gathers what they export.

mod lines;
mod proc;
mod run;
mod signal;
mod stream;

#[cfg(test)]
pub(crate) use proc::sh;
pub use proc::{Proc, STEP, command};
pub(crate) use run::feed_and_finish;
pub use run::{Run, run};
pub use signal::{Signal, send_signal};
