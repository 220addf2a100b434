//! The pool of `redis-ops pool`: deadpool's managed pool of multiplexed connections, each
//! dialed on our bounded socket ([`super::dial`]) and named with `CLIENT SETNAME` as it is
//! made, reset and checked (`UNWATCH`, then `PING`, in one round trip) before it is lent again.

use std::sync::atomic::{AtomicU64, Ordering};

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use redis::RedisError;
use redis::aio::MultiplexedConnection;

use super::Redis;
use crate::error::{Error, describe};

/// A pool of at most `size` connections ([`Redis::pool`]).
pub type Pool = managed::Pool<Dialer>;

/// Why the pool lent no connection.
pub type PoolError = managed::PoolError<RedisError>;

/// Makes and checks the pool's connections.
pub struct Dialer {
    redis: Redis,
    name: String,
    pings: AtomicU64,
}

impl managed::Manager for Dialer {
    type Type = MultiplexedConnection;
    type Error = RedisError;

    async fn create(&self) -> Result<MultiplexedConnection, RedisError> {
        // Boxed: the connect (its first replies read through our link) is a large future,
        // and every `Pool::get` would carry it.
        let mut conn = Box::pin(self.redis.connect_as_redis()).await?;
        redis::cmd("CLIENT")
            .arg("SETNAME")
            .arg(&self.name)
            .exec_async(&mut conn)
            .await?;
        Ok(conn)
    }

    async fn recycle(
        &self,
        conn: &mut MultiplexedConnection,
        _: &Metrics,
    ) -> RecycleResult<RedisError> {
        let n = self.pings.fetch_add(1, Ordering::Relaxed).to_string();
        let (echoed,): (String,) = redis::pipe()
            .cmd("UNWATCH")
            .ignore()
            .cmd("PING")
            .arg(&n)
            .query_async(conn)
            .await?;
        if echoed == n {
            Ok(())
        } else {
            Err(RecycleError::message("PING answered with another word"))
        }
    }
}

impl Redis {
    /// A pool of at most `size` multiplexed connections, created on demand, each named `name`
    /// with `CLIENT SETNAME` as it is created. Creating one and waiting for a free one are
    /// bounded by the timeout.
    pub fn pool(&self, size: usize, name: &str) -> Result<Pool, Error> {
        let dialer = Dialer {
            redis: self.clone(),
            name: name.to_owned(),
            pings: AtomicU64::new(0),
        };
        Pool::builder(dialer)
            .max_size(size)
            .runtime(deadpool::Runtime::Tokio1)
            .create_timeout(Some(self.timeout))
            .wait_timeout(Some(self.timeout))
            .build()
            .map_err(|e| Error::Usage(format!("cannot build the pool: {e}")))
    }

    /// Turns a pool error into ours: creation failures are connection failures.
    pub fn pool_error(&self, e: &PoolError) -> Error {
        let reason = match e {
            PoolError::Backend(e) => describe(e),
            PoolError::Timeout(_) => format!("no pool connection within the timeout ({e})"),
            other => other.to_string(),
        };
        Error::Connect {
            url: self.url.clone(),
            reason,
        }
    }
}
