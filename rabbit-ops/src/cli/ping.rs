//! `ping`: its arguments, the checked options ([`ping::Options`]), and the run.

use std::io::Write;
use std::time::Duration;

use argh::FromArgs;
use common::cli::positive_secs;
use common::output::Out;

use super::global::Global;
use crate::error::Error;
use crate::ping;

/// For CI: is every node ready? A real round trip (an exclusive queue, a confirmed message,
/// consumed and compared), one line per --url; exit 1 if any fails.
#[derive(FromArgs, Debug, Clone, Copy)]
#[argh(
    subcommand,
    name = "ping",
    example = "Wait up to a minute for the broker, then go on:\n$ rabbit-ops --url amqp://guest:guest@127.0.0.1:5672/%2f ping --wait 60",
    note = "A node still booting (nothing listening, the connection closed) is tried again until --wait runs out; bad credentials, a missing vhost or a peer that is not AMQP fail at once. --json prints {{\"target\", \"ok\", \"server\", \"round_trip_ms\", \"attempts\", \"waited_s\", \"error\"}} per node."
)]
pub struct Args {
    /// keep trying (with a backoff) until every node passes or SECS have gone (default: one
    /// try)
    #[argh(option, from_str_fn(positive_secs))]
    pub wait: Option<Duration>,
    /// seconds one attempt may take, connection included (default 5)
    #[argh(option, default = "Duration::from_secs(5)", from_str_fn(positive_secs))]
    pub timeout: Duration,
    /// one JSON object per node and line
    #[argh(switch)]
    pub json: bool,
}

/// What to check: every node of `global`, as given, with its TLS settings (the URLs parsed
/// and the TLS files read first, as for every command).
pub fn check(args: Args, global: &Global) -> Result<ping::Options, Error> {
    let broker = global.broker()?;
    Ok(ping::Options {
        targets: global.urls.clone(),
        connect_timeout: global.connect_timeout,
        timeout: args.timeout,
        wait: args.wait,
        json: args.json,
        tls: broker.tls().cloned(),
    })
}

/// Checks every node and prints one line (or JSON object) each ([`ping::run`]).
pub fn run(options: &ping::Options, out: &mut Out<impl Write>) -> Result<(), Error> {
    ping::run(options, out)
}
