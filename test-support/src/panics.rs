//! The text of a caught panic ([`panic_text`]): the crate's own tests check the failure messages
//! of its waits with it.

use std::any::Any;

/// The message of a caught panic (`""` when it is neither a `String` nor a `&str`).
pub(crate) fn panic_text(e: &(dyn Any + Send)) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}
