//! The keys a run writes, and deleting them at the end whatever happened.

use std::time::{Duration, Instant};

use super::Test;
use crate::connect::Redis;
use crate::error::{Error, describe};

/// The keys of a run: `bench:<id>:key`, `bench:<id>:counter`... On a cluster each connection
/// has its own keys, `bench:{<id>-<n>}:key`, so the load spreads over the masters while one
/// connection's pipeline stays in one slot.
#[derive(Debug, Clone)]
pub struct Keys {
    id: String,
    per_client: bool,
    /// Whether a command of the run succeeded (else nothing was written: no clean-up).
    written: std::cell::Cell<bool>,
}

impl Keys {
    pub(super) fn new(per_client: bool) -> Self {
        Self {
            id: format!("{:08x}", rand::random::<u32>()),
            per_client,
            written: std::cell::Cell::new(false),
        }
    }

    /// Notes that a command of the run succeeded: its keys may exist.
    pub(super) fn wrote(&self) {
        self.written.set(true);
    }

    /// Whether a command of the run succeeded.
    pub(super) fn written(&self) -> bool {
        self.written.get()
    }

    /// The key `test` uses on connection `client`.
    pub fn key(&self, test: Test, client: usize) -> String {
        if self.per_client {
            format!("bench:{{{}-{client}}}:{}", self.id, test.key_name())
        } else {
            format!("bench:{}:{}", self.id, test.key_name())
        }
    }

    /// Every key the run may have written.
    pub(super) fn all(&self, clients: usize) -> Vec<String> {
        let mut keys: Vec<String> = (0..if self.per_client { clients } else { 1 })
            .flat_map(|c| Test::ALL.map(|t| self.key(t, c)))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// Deletes every key the run may have written; a failure is a warning on stderr (the figures
/// stand). A cluster may still be failing over (MOVED to a dead master): it is tried again, with
/// the shared backoff, for a while.
pub(super) async fn cleanup(redis: &Redis, keys: &Keys, clients: usize) {
    let all = keys.all(clients);
    let mut attempt = std::pin::pin!(delete(redis, &all));
    let patience = if redis.is_cluster() {
        Duration::from_secs(20)
    } else {
        redis.timeout()
    };
    let deadline = Instant::now() + patience;
    let mut backoff = crate::connect::backoff();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let why = match tokio::time::timeout(left, &mut attempt).await {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e.to_string(),
            Err(_) => "timed out".to_owned(),
        };
        let Some(delay) = backoff.next_delay_until(deadline) else {
            common::exit::say(&format!(
                "warning: cannot delete the benchmark's keys: {why}"
            ));
            return;
        };
        tokio::time::sleep(delay).await;
        attempt.set(delete(redis, &all));
    }
}

async fn delete(redis: &Redis, all: &[String]) -> Result<(), Error> {
    let mut conn = redis.conn().await?;
    if redis.is_cluster() {
        // Keys in different slots: one DEL each (the client routes it).
        for k in all {
            let _: i64 = redis::cmd("DEL")
                .arg(k)
                .query_async(&mut conn)
                .await
                .map_err(|e| del_error(&e))?;
        }
    } else {
        let _: i64 = redis::cmd("DEL")
            .arg(all)
            .query_async(&mut conn)
            .await
            .map_err(|e| del_error(&e))?;
    }
    Ok(())
}

fn del_error(e: &redis::RedisError) -> Error {
    Error::Command {
        command: "DEL".into(),
        reason: describe(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_per_run_and_per_connection() {
        for (per_client, test, key, conns, all) in [
            (true, Test::Get, "bench:{ab-3}:key", 2, 12),
            (false, Test::Lpush, "bench:ab:mylist", 50, 6),
        ] {
            let keys = Keys {
                id: "ab".into(),
                per_client,
                written: std::cell::Cell::new(false),
            };
            assert_eq!(keys.key(test, 3), key);
            assert_eq!(keys.all(conns).len(), all);
        }
    }
}
