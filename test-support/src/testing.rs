//! Helpers for the crate's own unit tests.

use std::any::Any;
use std::process::Command;

use crate::command;

/// `sh -c script`, through [`command`].
pub(crate) fn sh(script: &str) -> Command {
    let mut c = command("sh");
    c.args(["-c", script]);
    c
}

/// The message of a caught panic (`""` when it is neither a `String` nor a `&str`).
pub(crate) fn panic_text(e: &(dyn Any + Send)) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}
