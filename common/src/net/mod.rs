//! Sockets every tool shares: [`bind`] a listener (`bind.rs`), [`serve`](serve::serve)
//! connections on it (permit before accept, grace period, abort: `serve.rs`), and
//! [`describe_io`], the one way an I/O error is put in words (`io_error.rs`).
//!
//! The children import each other, never this file: it only gathers what they export.

mod bind;
mod io_error;
pub mod serve;

pub use bind::{BACKLOG, BindError, bind};
pub use io_error::describe_io;
pub use serve::{Ctx, ServeStats, serve};
