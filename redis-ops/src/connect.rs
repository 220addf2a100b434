//! Connecting: the one place where a URL becomes connections.
//!
//! Every command of the tool gets its connections from a [`Redis`], so the connect timeout, the
//! error messages (`cannot connect to redis://127.0.0.1:6390/0: connection refused`, password
//! redacted) and the kinds of connection live here:
//!
//! - [`Redis::connect`]: the everyday connection, a `MultiplexedConnection`. It is cheap to clone
//!   and many tasks can send commands on it at once: the commands are pipelined on one socket
//!   and the replies matched back in order.
//! - [`Redis::connect_blocking`]: a connection of its own for commands that hold the connection
//!   (BLPOP and friends block it until data arrives; WATCH/MULTI keep state on it). Sharing the
//!   multiplexed connection for those would stall, or corrupt, every other user of it.
//! - [`Redis::connect_db`]: the same server, another database number (MOVE lesson).
//! - [`Redis::pubsub`]: a RESP2 subscriber connection (a subscribed connection can only
//!   (un)subscribe and receive).
//! - [`Redis::pool`]: a deadpool-redis pool of at most `size` connections, each named with
//!   `CLIENT SETNAME` so `CLIENT LIST` can count them.

use std::future::Future;
use std::time::Duration;

use deadpool_redis::{Hook, HookError, Manager, Pool, Runtime};
use redis::aio::{MultiplexedConnection, PubSub};
use redis::{AsyncConnectionConfig, Client, ConnectionInfo, IntoConnectionInfo, RedisResult};

use crate::error::{Error, describe, secs};

/// Where `--url` points when neither it nor `$REDIS_URL` is given.
pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379/0";

/// The default connect timeout (`--timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The URL to use: `--url`, else `$REDIS_URL`, else [`DEFAULT_URL`].
pub fn url_from(flag: Option<String>) -> String {
    flag.or_else(|| {
        std::env::var("REDIS_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
    })
    .unwrap_or_else(|| DEFAULT_URL.to_owned())
}

/// A Redis server to connect to: its URL, parsed, and the connect timeout.
#[derive(Debug, Clone)]
pub struct Redis {
    url: String,
    info: ConnectionInfo,
    timeout: Duration,
}

impl Redis {
    /// Parses the URL (no connection yet). A malformed URL is a usage error.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, Error> {
        let info = url.into_connection_info().map_err(|e| Error::BadUrl {
            url: url.to_owned(),
            reason: describe(&e),
        })?;
        Ok(Self {
            url: url.to_owned(),
            info,
            timeout,
        })
    }

    /// The URL as given (print it through `common::redact`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The connect timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The database number the URL selects (`/0` when it names none).
    pub fn db(&self) -> i64 {
        self.info.redis_settings().db()
    }

    /// The shared, multiplexed connection: commands from many tasks share its socket. Replies
    /// slower than the timeout fail rather than hang.
    pub async fn connect(&self) -> Result<MultiplexedConnection, Error> {
        self.multiplexed(&self.info, Some(self.timeout.max(DEFAULT_TIMEOUT)))
            .await
    }

    /// A connection of its own, with no reply timeout, for commands that block it (BLPOP,
    /// BRPOPLPUSH) or keep state on it (WATCH). Bound every command on it with your own timeout.
    pub async fn connect_blocking(&self) -> Result<MultiplexedConnection, Error> {
        self.multiplexed(&self.info, None).await
    }

    /// Like [`Redis::connect`], on database `db` of the same server.
    pub async fn connect_db(&self, db: i64) -> Result<MultiplexedConnection, Error> {
        let info = self
            .info
            .clone()
            .set_redis_settings(self.info.redis_settings().clone().set_db(db));
        self.multiplexed(&info, Some(self.timeout.max(DEFAULT_TIMEOUT)))
            .await
    }

    /// A subscriber connection (RESP2 pub/sub).
    pub async fn pubsub(&self) -> Result<PubSub, Error> {
        let client = self.client(&self.info)?;
        self.bounded(client.get_async_pubsub()).await
    }

    /// A pool of at most `size` multiplexed connections, created on demand, each named `name`
    /// with `CLIENT SETNAME` as it is created. Waiting for a free connection is bounded too.
    pub fn pool(&self, size: usize, name: &str) -> Result<Pool, Error> {
        let config = self.config(Some(self.timeout.max(DEFAULT_TIMEOUT)));
        let manager =
            Manager::new_with_config(self.info.clone(), config).map_err(|e| Error::BadUrl {
                url: self.url.clone(),
                reason: describe(&e),
            })?;
        let name = name.to_owned();
        let set_name = Hook::async_fn(move |conn: &mut MultiplexedConnection, _| {
            let name = name.clone();
            Box::pin(async move {
                redis::cmd("CLIENT")
                    .arg("SETNAME")
                    .arg(name)
                    .exec_async(conn)
                    .await
                    .map_err(HookError::Backend)
            })
        });
        Pool::builder(manager)
            .max_size(size)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(self.timeout))
            .wait_timeout(Some(Duration::from_secs(30)))
            .post_create(set_name)
            .build()
            .map_err(|e| Error::Usage(format!("cannot build the pool: {e}")))
    }

    /// Turns a pool error into ours: creation failures are connection failures.
    pub fn pool_error(&self, e: &deadpool_redis::PoolError) -> Error {
        use deadpool_redis::PoolError;
        let reason = match e {
            PoolError::Backend(e) | PoolError::PostCreateHook(HookError::Backend(e)) => describe(e),
            PoolError::Timeout(_) => format!("no pool connection within the timeout ({e})"),
            other => other.to_string(),
        };
        Error::Connect {
            url: self.url.clone(),
            reason,
        }
    }

    fn config(&self, response_timeout: Option<Duration>) -> AsyncConnectionConfig {
        AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(response_timeout)
    }

    fn client(&self, info: &ConnectionInfo) -> Result<Client, Error> {
        Client::open(info.clone()).map_err(|e| Error::BadUrl {
            url: self.url.clone(),
            reason: describe(&e),
        })
    }

    async fn multiplexed(
        &self,
        info: &ConnectionInfo,
        response_timeout: Option<Duration>,
    ) -> Result<MultiplexedConnection, Error> {
        let client = self.client(info)?;
        let config = self.config(response_timeout);
        self.bounded(client.get_multiplexed_async_connection_with_config(&config))
            .await
    }

    /// Runs a connection attempt within the timeout and names the failure.
    async fn bounded<T>(&self, attempt: impl Future<Output = RedisResult<T>>) -> Result<T, Error> {
        let fail = |reason| Error::Connect {
            url: self.url.clone(),
            reason,
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) if e.is_timeout() => {
                Err(fail(format!("timed out after {}", secs(self.timeout))))
            }
            Ok(Err(e)) => Err(fail(describe(&e))),
            Err(_) => Err(fail(format!("timed out after {}", secs(self.timeout)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_urls_are_usage_errors() {
        for url in ["foo", "redis://h:x/0", "redis://127.0.0.1:6379/abc"] {
            let e = Redis::new(url, DEFAULT_TIMEOUT).unwrap_err();
            assert!(
                matches!(e, Error::BadUrl { .. }),
                "{url}: {e:?} is not BadUrl"
            );
            assert!(
                e.to_string().starts_with(&format!("bad Redis URL '{url}'")),
                "{e}"
            );
        }
    }

    #[test]
    fn db_comes_from_the_url() {
        assert_eq!(
            Redis::new("redis://h:1/3", DEFAULT_TIMEOUT).unwrap().db(),
            3
        );
        assert_eq!(Redis::new("redis://h:1", DEFAULT_TIMEOUT).unwrap().db(), 0);
    }
}
