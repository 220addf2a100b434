//! `redis-ops ping`: does Redis really work? For each target at once: connect as the URL says
//! (password, database), PING, then SET a random value under a fresh key with a short expiry,
//! GET it back, compare, DEL (`node`). With `--cluster`, `CLUSTER INFO` must say
//! `cluster_state:ok`, every slot must be served, and the round trip runs on every master
//! ([`cluster`]). `--wait` tries again with the shared backoff until the check passes
//! ([`common::probe::check_all`], one target each, so that every target is named by its
//! [`crate::url::RedisUrl`], password hidden); a server still loading its data (`LOADING`), not
//! accepting connections yet, or silent is "not ready yet"; a wrong password, a server that is
//! not Redis, a read-only replica are a permanent no.
//!
//! Nothing is left behind: the key is unique to the run, has a `PX` expiry, and is deleted
//! whatever GET answered. An attempt is never cut half-way by a signal: the signal ends the
//! waiting between attempts.

pub mod cluster;
mod node;
mod session;

use std::future::Future;
use std::time::Duration;

use common::probe::{Outcome, Probe, check_all};
use futures_util::FutureExt;

use crate::connect::Redis;

/// The most targets one `ping` checks.
pub const MAX_TARGETS: usize = 1000;

/// Checks every target (a server, or a cluster) at once; answers their outcomes in order, each
/// naming its target by its URL, password hidden. `probe.timeout` bounds each attempt (connect,
/// every exchange, the clean-up); `stop` (a signal) ends the waiting.
pub async fn run(targets: &[Redis], probe: Probe, stop: impl Future) -> Vec<Outcome> {
    // The attempt's own deadline fires first and says which step got no answer; the probe's
    // bound is the safety net.
    let outer = Probe {
        wait: probe.wait,
        timeout: probe.timeout + Duration::from_millis(250),
    };
    let stop = async move {
        stop.await;
    }
    .shared();
    let checks = targets.iter().map(|redis| {
        let shown = [redis.url().to_string()];
        let stop = stop.clone();
        async move {
            let check = |_| async move {
                if redis.is_cluster() {
                    cluster::check(redis, probe.timeout).await
                } else {
                    node::check(redis, probe.timeout).await
                }
            };
            check_all(&shown, outer, check, stop).await
        }
    });
    futures_util::future::join_all(checks)
        .await
        .into_iter()
        .flatten()
        .collect()
}
