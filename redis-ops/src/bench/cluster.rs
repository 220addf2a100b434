//! The same tests on a Redis Cluster, through the redis crate's async cluster client, which
//! routes each command to the master of its key's slot.

use std::rc::Rc;
use std::time::Instant;

use tokio::time::Instant as Tick;

use common::duration::duration;
use redis::Value;

use super::tally::Shared;
use super::{OneTest, TestReport};
use crate::connect::Conn;
use crate::error::{Error, describe};

/// The same test through the redis crate's cluster client: one task per connection, `-P`
/// commands per round trip as a pipeline (all in one slot: the connection's own keys).
pub(super) async fn run_cluster(one: OneTest<'_>) -> Result<TestReport, Error> {
    let (redis, o, keys, test, stop) = (one.redis, one.o, one.keys, one.test, one.stop);
    // Each command is retried (with a slot-map refresh) a few times within its timeout, so a
    // failover costs the commands sent while no master serves the slot, not the run.
    let conn = redis.cluster_conn(Some(redis.timeout()), 3).await?;
    let shared = Rc::new(Shared::new(o, stop.clone(), Tick::now(), one.live));
    let value = vec![b'x'; o.data_size];
    let mut tasks = Vec::new();
    for n in 0..o.clients {
        let mut schedule = shared.schedule(n, o.clients);
        let args = test.args(&keys.key(test, n), &value);
        let mut cmd = redis::cmd(std::str::from_utf8(&args[0]).unwrap_or("PING"));
        for a in &args[1..] {
            cmd.arg(a.as_slice());
        }
        let mut pipe = redis::pipe();
        for _ in 0..o.pipeline {
            pipe.add_command(cmd.clone());
        }
        let (shared, mut conn, limit) = (shared.clone(), conn.clone(), redis.timeout() * 2);
        let (redis, retry_for) = (redis.clone(), o.retry_for);
        tasks.push(tokio::task::spawn_local(async move {
            let mut backoff = crate::connect::backoff();
            let mut failing_since: Option<Instant> = None;
            loop {
                let Some(turn) = shared.next(&mut schedule).await else {
                    return;
                };
                let k = turn.k;
                let t0 = Tick::now();
                shared.sending(&turn, t0);
                let replies =
                    tokio::time::timeout(limit, cluster_batch(&mut conn, &cmd, &pipe, k)).await;
                let failed = match replies {
                    Ok(Ok(values)) => {
                        let good = values.iter().filter(|v| test.accepts_value(v)).count() as u64;
                        shared.good(&turn, good);
                        if good < k && turn.counted {
                            shared.fail(k - good, || format!("unexpected reply in {values:?}"));
                        }
                        shared.answered(&turn, good, t0, Tick::now());
                        false
                    }
                    Ok(Err(e)) => {
                        if turn.counted {
                            shared.fail(k, || describe(&e));
                        }
                        true
                    }
                    Err(_) => {
                        if turn.counted {
                            shared.fail(k, || format!("no reply within {}", duration(limit)));
                        }
                        true
                    }
                };
                if !failed {
                    backoff.reset();
                    failing_since = None;
                    continue;
                }
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= retry_for {
                    // Down for too long (no master for some slots, CLUSTERDOWN): stop; what
                    // was not sent is reported and the command fails.
                    return;
                }
                // Give the cluster time (failover, slot refresh) before the next batch: 50 ms
                // doubling to 1 s while the failures go on. From the second failure in a row,
                // a fresh cluster connection (a new slot map from the seeds): the client's own
                // repair can stall for good after a master died (seen with redis 1.8.1).
                tokio::time::sleep(backoff.next_delay()).await;
                if backoff.attempts() >= 2 {
                    let fresh = redis.cluster_conn(Some(redis.timeout()), 3);
                    if let Ok(Ok(c)) = tokio::time::timeout(limit, fresh).await {
                        conn = c;
                        shared.reconnects.set(shared.reconnects.get() + 1);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| Error::Command {
            command: "bench (task)".into(),
            reason: e.to_string(),
        })?;
    }
    Ok(shared.report(test, Tick::now()))
}

async fn cluster_batch(
    conn: &mut Conn,
    cmd: &redis::Cmd,
    pipe: &redis::Pipeline,
    k: u64,
) -> redis::RedisResult<Vec<Value>> {
    if k == 1 {
        Ok(vec![cmd.query_async::<Value>(conn).await?])
    } else if k as usize == pipe.len() {
        pipe.query_async::<Vec<Value>>(conn).await
    } else {
        let mut short = redis::pipe();
        for _ in 0..k {
            short.add_command(cmd.clone());
        }
        short.query_async::<Vec<Value>>(conn).await
    }
}
