//! `redis-ops subscribe`: its arguments, their checks, and the run.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use argh::FromArgs;
use common::exit::say;
use common::output::Out;
use common::redact::redact_all;

use super::connection::{Connection, OnCluster};
use super::{RETRY_FOR, Threads, execute, shutdown, usage};
use crate::channels::{self, Event, Listen};
use crate::connect::Redis;
use crate::error::Error;

/// The most messages `subscribe --count` waits for.
pub const MAX_COUNT: usize = 1_000_000_000;

/// print `channel: message` for every message on the channels
#[derive(FromArgs)]
#[argh(subcommand, name = "subscribe")]
pub struct Args {
    /// channels (glob patterns with --pattern)
    #[argh(positional)]
    pub channels: Vec<String>,
    /// exit after this many messages (1 to 1000000000)
    #[argh(option)]
    pub count: Option<usize>,
    /// stop after this many seconds (an error if --count messages have not arrived)
    #[argh(option, from_str_fn(common::cli::positive_secs))]
    pub timeout: Option<Duration>,
    /// the names are patterns (PSUBSCRIBE): news.* matches news.sport
    #[argh(switch)]
    pub pattern: bool,
    /// seconds to keep trying to reconnect after the server went away (default 30)
    #[argh(option, default = "RETRY_FOR", from_str_fn(common::cli::positive_secs))]
    pub retry_for: Duration,
}

/// `subscribe`, checked.
#[derive(Debug)]
pub struct Options {
    /// The server (a single node).
    pub redis: Redis,
    /// Channels, count, timeout.
    pub listen: Listen,
    /// `--retry-for`.
    pub retry_for: Duration,
}

impl Options {
    /// The connection flags (no `--cluster`), then the channels and `--count`.
    pub fn new(a: Args, to: &Connection) -> Result<Self, Error> {
        let redis = to.redis(OnCluster::Refused("subscribe"))?;
        if a.channels.is_empty() {
            return Err(usage("subscribe: name at least one channel"));
        }
        if a.channels.iter().any(String::is_empty) {
            return Err(usage("subscribe: a channel name is empty"));
        }
        if a.count.is_some_and(|n| n == 0 || n > MAX_COUNT) {
            return Err(usage(&format!(
                "subscribe: --count is from 1 to {MAX_COUNT}"
            )));
        }
        Ok(Self {
            redis,
            listen: Listen {
                channels: a.channels,
                patterns: a.pattern,
                count: a.count,
                timeout: a.timeout,
            },
            retry_for: a.retry_for,
        })
    }
}

/// Prints `channel: message` lines until `--count`, `--timeout` or a signal; says on stderr
/// when it subscribed (unless `quiet`), lost the connection, subscribed again.
pub fn run<W: Write>(
    args: Args,
    to: &Connection,
    quiet: bool,
    out: &mut Out<W>,
) -> Result<ExitCode, Error> {
    let Options {
        redis,
        listen,
        retry_for,
    } = Options::new(args, to)?;
    let names = listen.channels.join(", ");
    let notify = move |event: Event| match event {
        Event::Subscribed if !quiet => say(&format!("subscribed to {names}")),
        Event::Lost(why) => say(&redact_all(&format!(
            "connection lost ({why}); reconnecting"
        ))),
        Event::Resubscribed { attempts, down } => say(&format!(
            "resubscribed to {names} after {} ({attempts} attempt(s)); messages published meanwhile were missed",
            common::duration::duration(down)
        )),
        Event::Subscribed => {}
    };
    execute(&redis, Threads::All, async {
        channels::subscribe(&redis, &listen, out, notify, retry_for, shutdown()?).await?;
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::cli::tests::parse;

    #[test]
    fn seconds_become_durations() {
        let (to, Command::Subscribe(a)) =
            parse(&["--timeout", "0.5", "subscribe", "ch", "--timeout", "2"]).unwrap()
        else {
            panic!("not subscribe")
        };
        let o = Options::new(a, &to).unwrap();
        assert_eq!(o.redis.timeout(), Duration::from_millis(500));
        assert_eq!(o.listen.timeout, Some(Duration::from_secs(2)));
        assert_eq!(o.retry_for, Duration::from_secs(30));
    }
}
