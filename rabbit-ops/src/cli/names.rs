//! AMQP's names are short strings: a queue, exchange, routing or binding key over 255 bytes on
//! the command line is a usage error, found before connecting.

use crate::error::Error;
use crate::queues::{Generation, Named};

/// AMQP's names (queue, exchange, routing and binding keys) are short strings: at most 255 bytes.
pub const MAX_NAME: usize = 255;

/// Every name of `command` (`("--queue", "hello")`...) fits AMQP's short string (the broker
/// would close the connection with FRAME_ERROR and a dump of the frame), else the usage error
/// `--queue is 300 bytes: AMQP names are at most 255` (the first name too long).
pub fn check(command: &'static str, names: &[(&str, &str)]) -> Result<(), Error> {
    match names.iter().find(|(_, name)| name.len() > MAX_NAME) {
        Some((what, name)) => Err(Error::usage(
            command,
            format!(
                "{what} is {} bytes: AMQP names are at most {MAX_NAME}",
                name.len()
            ),
        )),
        None => Ok(()),
    }
}

/// `--queue` of `command`, checked, with how the queue is declared.
pub fn queue(command: &'static str, name: String, generation: Generation) -> Result<Named, Error> {
    check(command, &[("--queue", &name)])?;
    Ok(Named { name, generation })
}
