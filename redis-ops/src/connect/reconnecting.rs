//! [`Reconnecting`]: a multiplexed connection that reconnects by itself, on our bounded sockets
//! (the redis crate's `ConnectionManager` dials its own, unbounded ones: issue 22.4).
//!
//! While the connection is up, commands go through it as through any multiplexed connection.
//! When it breaks (a failure the crate calls unrecoverable: the server went away, a reply
//! beyond our bounds), it is dropped; the next command dials again, one dial at a time for all
//! the clones, each within the connect timeout. After a failed dial the next one waits its turn
//! on a backoff of 50 ms doubling to 1 s ([`super::backoff`]): the commands in between fail at
//! once with the dial's error, so a caller counting failures sees every one.

use std::sync::{Arc, Mutex, PoisonError};

use common::retry::Backoff;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{Cmd, Pipeline, RedisError, RedisFuture, RedisResult, Value};
use tokio::time::Instant;

use super::Redis;

/// A multiplexed connection that reconnects by itself; clones share it.
#[derive(Clone)]
pub struct Reconnecting {
    redis: Arc<Redis>,
    shared: Arc<Shared>,
}

struct Shared {
    /// The connection while it is up, and its number (one more with each dial).
    up: Mutex<(u64, Option<MultiplexedConnection>)>,
    /// Held while dialing; when the last dial failed, its error and when the next may start.
    dialing: tokio::sync::Mutex<Retry>,
}

struct Retry {
    backoff: Backoff,
    failed: Option<(RedisError, Instant)>,
}

impl Reconnecting {
    /// Dials `redis` (within its timeout): the first failure is the caller's.
    pub async fn connect(redis: &Redis) -> Result<Self, crate::error::Error> {
        let conn = redis.connect().await?;
        Ok(Self {
            redis: Arc::new(redis.clone()),
            shared: Arc::new(Shared {
                up: Mutex::new((0, Some(conn))),
                dialing: tokio::sync::Mutex::new(Retry {
                    backoff: super::backoff(),
                    failed: None,
                }),
            }),
        })
    }

    fn up(&self) -> std::sync::MutexGuard<'_, (u64, Option<MultiplexedConnection>)> {
        self.shared
            .up
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The connection, dialed again if it is down; with its number.
    async fn connection(&self) -> RedisResult<(u64, MultiplexedConnection)> {
        if let (n, Some(conn)) = &*self.up() {
            return Ok((*n, conn.clone()));
        }
        let mut retry = self.shared.dialing.lock().await;
        if let (n, Some(conn)) = &*self.up() {
            return Ok((*n, conn.clone())); // another clone dialed meanwhile
        }
        if let Some((e, next)) = &retry.failed
            && Instant::now() < *next
        {
            return Err(e.clone());
        }
        match self.redis.connect_as_redis().await {
            Ok(conn) => {
                retry.backoff.reset();
                retry.failed = None;
                let mut up = self.up();
                up.0 += 1;
                up.1 = Some(conn.clone());
                Ok((up.0, conn))
            }
            Err(e) => {
                let next = Instant::now() + retry.backoff.next_delay();
                retry.failed = Some((e.clone(), next));
                Err(e)
            }
        }
    }

    /// Drops connection number `n` after a failure that it cannot survive.
    fn after<T>(&self, n: u64, result: &RedisResult<T>) {
        if let Err(e) = result
            && e.is_unrecoverable_error()
        {
            let mut up = self.up();
            if up.0 == n {
                up.1 = None;
            }
        }
    }
}

impl ConnectionLike for Reconnecting {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let (n, mut conn) = self.connection().await?;
            let result = conn.req_packed_command(cmd).await;
            self.after(n, &result);
            result
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipe: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let (n, mut conn) = self.connection().await?;
            let result = conn.req_packed_commands(pipe, offset, count).await;
            self.after(n, &result);
            result
        })
    }

    fn get_db(&self) -> i64 {
        self.redis.db()
    }
}
