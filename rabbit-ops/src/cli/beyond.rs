//! The argh structs of the commands beyond tutorials 1-6: `publisher-confirms` (tutorial 7),
//! `bench` and `ping`.

use std::time::Duration;

use argh::FromArgs;
use common::cli::positive_secs;

use super::args::positive;
use crate::confirms;

/// Tutorial 7: publish with confirms three ways (individually, in batches, asynchronously).
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "publisher-confirms")]
pub struct PublisherConfirms {
    /// messages per strategy (default 10000, at most 100000000)
    #[argh(option, default = "confirms::MESSAGES", from_str_fn(positive))]
    pub messages: u64,
    /// publish into this queue (kept) instead of a temporary queue per strategy
    #[argh(option)]
    pub queue: Option<String>,
    /// seconds to wait for outstanding confirms (default 60)
    #[argh(
        option,
        default = "Duration::from_secs(60)",
        from_str_fn(positive_secs)
    )]
    pub timeout: Duration,
}

/// Beyond the tutorials: measure publish and consume rates and end-to-end latency.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "bench")]
pub struct Bench {
    /// messages in all (default 100000, at most 100000000)
    #[argh(option, default = "100_000", from_str_fn(positive))]
    pub messages: u64,
    /// bytes per message, 16 to 134217728 (default 100)
    #[argh(option, default = "100", from_str_fn(positive))]
    pub size: u64,
    /// publishing connections (default 1, at most 1000)
    #[argh(option, default = "1", from_str_fn(positive))]
    pub producers: u64,
    /// consuming connections (default 1, at most 1000)
    #[argh(option, default = "1", from_str_fn(positive))]
    pub consumers: u64,
    /// persistent messages on a durable queue
    #[argh(switch)]
    pub persistent: bool,
    /// publisher confirms (every message confirmed before the publish rate is taken)
    #[argh(switch)]
    pub confirm: bool,
    /// unacknowledged messages per consumer (default 500, at most 65535)
    #[argh(option, default = "500", from_str_fn(positive))]
    pub prefetch: u64,
    /// print one JSON object instead of lines
    #[argh(switch)]
    pub json: bool,
}

/// For CI: is every node ready? A real round trip (an exclusive queue, a confirmed message,
/// consumed and compared), one line per --url; exit 1 if any fails.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "ping",
    example = "Wait up to a minute for the broker, then go on:\n$ rabbit-ops --url amqp://guest:guest@127.0.0.1:5672/%2f ping --wait 60",
    note = "A node still booting (nothing listening, the connection closed) is tried again until --wait runs out; bad credentials, a missing vhost or a peer that is not AMQP fail at once. --json prints {{\"target\", \"ok\", \"server\", \"round_trip_ms\", \"attempts\", \"waited_s\", \"error\"}} per node."
)]
pub struct Ping {
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
