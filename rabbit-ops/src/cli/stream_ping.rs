//! `ping` with `rabbitmq-stream://` URLs: the same flags as for AMQP (`--wait`, `--timeout`,
//! `--json`), a stream round trip per node ([`crate::streams::ping`]), reported as every
//! readiness check does ([`common::probe::report`]).

use std::io::Write;

use common::exit::INTERRUPTED;
use common::output::Out;

use super::args::Ping;
use super::streams::{Global, block_on, command_name, endpoints};
use crate::error::Error;
use crate::streams::ping::{self, Options};
use crate::streams::url::is_stream_url;

/// Checks every stream node; one line (or JSON object) per node.
pub fn run<W: Write>(global: &Global, args: &Ping, out: &mut Out<W>) -> Result<(), Error> {
    let command = command_name::<Ping>();
    if let Some(other) = global.urls.iter().find(|u| !is_stream_url(u)) {
        return Err(Error::usage(
            command,
            format!(
                "ping checks amqp:// or rabbitmq-stream:// URLs, not both in one run: '{}'",
                common::redact::redact_url(other)
            ),
        ));
    }
    let options = Options {
        targets: endpoints(command, global, &global.urls)?,
        timeout: args.timeout,
        wait: args.wait,
    };
    let outcomes = block_on(async || ping::check(&options).await)?;
    match common::probe::report(&outcomes, args.json, out) {
        Ok(()) => Ok(()),
        Err(f) if common::output::is_closed(&*f.error) => Ok(()),
        Err(f) => Err(Error::Ping {
            line: f.error.to_string(),
            interrupted: f.code == INTERRUPTED,
        }),
    }
}
