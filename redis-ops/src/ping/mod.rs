//! `redis-ops ping`: does Redis really work? For each target at once: connect as the URL says
//! (password, database), PING, then SET a random value under a fresh key with a short expiry,
//! GET it back, compare, DEL (`node`). With `--cluster`, `CLUSTER INFO` must say
//! `cluster_state:ok`, every slot must be served, and the round trip runs on every master
//! ([`cluster`]). `--wait` tries again with the shared backoff until the check passes
//! ([`common::probe::check_all`]); a server still loading its data (`LOADING`), not accepting
//! connections yet, or silent is "not ready yet"; a wrong password, a server that is not Redis,
//! a read-only replica are a permanent no.
//!
//! Nothing is left behind: the key is unique to the run, has a `PX` expiry, and is deleted
//! whatever GET answered. An attempt is never cut half-way by a signal: the signal ends the
//! waiting between attempts.

pub mod cluster;
mod link;
mod node;

use std::future::Future;
use std::time::Duration;

use common::probe::{Outcome, Probe, check_all};

use crate::connect::Redis;

/// The most targets one `ping` checks.
pub const MAX_TARGETS: usize = 1000;

/// One target: the URL as given (printed redacted) and the server or cluster it names.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL (the first seed's, for a cluster).
    pub url: String,
    /// Where to connect.
    pub redis: Redis,
}

/// Checks every target at once; answers their outcomes in order. `probe.timeout` bounds each
/// attempt (connect, every exchange, the clean-up); `stop` (a signal) ends the waiting.
pub async fn run(targets: &[Target], probe: Probe, stop: impl Future) -> Vec<Outcome> {
    let urls: Vec<String> = targets.iter().map(|t| t.url.clone()).collect();
    // The attempt's own deadline fires first and says which step got no answer; the probe's
    // bound is the safety net.
    let outer = Probe {
        wait: probe.wait,
        timeout: probe.timeout + Duration::from_millis(250),
    };
    let check = |url: String| {
        let target = targets.iter().find(|t| t.url == url);
        async move {
            let Some(target) = target else {
                return Err(common::probe::Refusal::failed("unknown target"));
            };
            if target.redis.is_cluster() {
                cluster::check(&target.redis, probe.timeout).await
            } else {
                node::check(&target.redis, probe.timeout).await
            }
        }
    };
    check_all(&urls, outer, check, stop).await
}
