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
//! - [`Redis::pool`]: a deadpool pool of at most `size` connections, each named with
//!   `CLIENT SETNAME` so `CLIENT LIST` can count them (`pool.rs`).
//! - [`Redis::reconnecting`]: [`Reconnecting`], a multiplexed connection that reconnects by
//!   itself (bounded backoff) after the server went away; what long runs (`pool`) use.
//! - [`Redis::conn`]: [`Conn`], either a multiplexed connection or, with `--cluster`, the redis
//!   crate's async cluster client (one connection per node, commands routed by key slot,
//!   MOVED/ASK followed, slots refreshed after a failover). [`Redis::node_for_key`] is a
//!   direct connection to the master serving a key's slot, for what a cluster connection cannot
//!   carry (SCAN, WATCH, blocking pops, SUBSCRIBE).
//!
//! Every one of them runs on a socket we open and bound ([`dial`], [`bounded`]): a reply the
//! crate would buffer without end (a line, a bulk string, an array that never ends) fails the
//! connection at its bound instead, in one line, whatever command it answers.

use std::future::Future;
use std::time::Duration;

use common::retry::Backoff;
use common::tls::Tls;
use redis::aio::{MultiplexedConnection, PubSub};
use redis::cluster::ClusterClient;
use redis::{AsyncConnectionConfig, ConnectionInfo, RedisError, RedisResult, Value};

use crate::error::{Error, describe};
use crate::link::Endpoint;
use crate::url::RedisUrl;

pub mod bounded;
mod conn;
pub mod dial;
mod first_replies;
mod pool;
mod reconnecting;
mod slots;
mod tls;

pub use conn::Conn;
use dial::{Dial, Node};
pub use pool::{Pool, PoolError};
pub use reconnecting::Reconnecting;
pub use slots::{master_of, masters};
pub use tls::timed_out;

/// CLUSTER SLOTS on `conn`: the slot ranges and their nodes.
async fn cluster_slots(conn: &mut Conn) -> Result<Vec<Value>, Error> {
    redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(conn)
        .await
        .map_err(|e| Error::Command {
            command: "CLUSTER SLOTS".to_owned(),
            reason: describe(&e),
        })
}

/// The default connect timeout (`--timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The backoff between reconnection attempts of every long run (`bench`, `subscribe`, `pool`):
/// 50 ms doubling to 1 s, the shared [`Backoff`] with this crate's bounds.
pub fn backoff() -> Backoff {
    Backoff::new(Duration::from_millis(50), Duration::from_secs(1))
}

/// A Redis server to connect to: its URL, parsed, and the connect timeout. With `--cluster`,
/// the seed nodes of a Redis Cluster (the first one is `url`).
#[derive(Debug, Clone)]
pub struct Redis {
    url: RedisUrl,
    timeout: Duration,
    seeds: Option<Vec<RedisUrl>>,
    /// The trust settings of a `rediss://` URL ([`Redis::with_tls`]).
    tls: Option<Tls>,
}

impl Redis {
    /// Parses the URL (no connection yet). A malformed URL is a usage error.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, Error> {
        Ok(Self {
            url: RedisUrl::parse(url)?,
            timeout,
            seeds: None,
            tls: None,
        })
    }

    /// A Redis Cluster known by one or more seed URLs (the client asks them for the rest).
    pub fn cluster(urls: &[String], timeout: Duration) -> Result<Self, Error> {
        let Some(first) = urls.first() else {
            return Err(Error::Usage("--cluster needs at least one seed URL".into()));
        };
        let mut redis = Self::new(first, timeout)?;
        let mut seeds = Vec::new();
        for url in urls {
            let one = RedisUrl::parse(url)?;
            if one.db() != 0 {
                return Err(one.bad("a Redis Cluster has database 0 only".into()).into());
            }
            seeds.push(one);
        }
        redis.seeds = Some(seeds);
        Ok(redis)
    }

    /// Applies `--cacert`, `--cert`/`--key` and `--insecure` to a `rediss://` URL (a plain one
    /// is left as it is): every socket to it, the redis crate's ([`dial`]) and the raw links of
    /// `bench` and `ping`, gets this trust through [`Redis::tls_connector`].
    pub fn with_tls(mut self, tls: &Tls) -> Result<Self, Error> {
        if self.is_tls() {
            self.tls = Some(tls.clone());
        }
        Ok(self)
    }

    /// Whether the URL is `rediss://` (TLS).
    pub fn is_tls(&self) -> bool {
        self.url.is_tls() || self.seeds.iter().flatten().any(RedisUrl::is_tls)
    }

    /// Whether `--insecure` applies: a `rediss://` URL whose certificate is not checked.
    pub fn is_insecure(&self) -> bool {
        self.is_tls() && self.tls.as_ref().is_some_and(Tls::insecure)
    }

    /// For a `rediss://` URL, the TLS connector of the raw RESP links (`bench`, `ping`) and the
    /// server name to check; `None` for a plain URL.
    pub fn tls_connector(&self) -> Result<Option<tokio_rustls::TlsConnector>, Error> {
        if !self.is_tls() {
            return Ok(None);
        }
        let tls = match &self.tls {
            Some(tls) => tls.clone(),
            None => common::tls::TlsOptions::default().load()?,
        };
        Ok(Some(tokio_rustls::TlsConnector::from(
            tls.rustls_client_config()?,
        )))
    }

    /// Whether this is a Redis Cluster (`--cluster`).
    pub fn is_cluster(&self) -> bool {
        self.seeds.is_some()
    }

    /// The server's address, `host:port` (the first seed of a cluster).
    pub fn addr(&self) -> Result<(String, u16), Error> {
        self.url.tcp_addr().ok_or_else(|| {
            Error::Usage(format!(
                "{}: only TCP (redis:// or rediss://host:port) is supported here",
                self.url
            ))
        })
    }

    /// The addresses of the seed nodes of a cluster, or this server's own.
    pub fn node_addrs(&self) -> Vec<(String, u16)> {
        match &self.seeds {
            None => self.url.tcp_addr().into_iter().collect(),
            Some(seeds) => seeds.iter().filter_map(RedisUrl::tcp_addr).collect(),
        }
    }

    /// Where a raw [`crate::link::Link`] to this server (the first seed of a cluster) goes,
    /// and who it says it is: the URL's user, password and database, the TLS settings.
    pub fn endpoint(&self) -> Result<Endpoint, Error> {
        let (host, port) = self.addr()?;
        Ok(Endpoint {
            host,
            port,
            tls: self.tls_connector()?,
            user: self.url.user().map(str::to_owned),
            password: self.url.password(),
            db: self.url.db(),
        })
    }

    /// The everyday connection: [`Redis::connect`], or the cluster client with `--cluster`.
    pub async fn conn(&self) -> Result<Conn, Error> {
        match &self.seeds {
            None => self.connect().await.map(Conn::Single),
            Some(_) => self.cluster_conn(Some(self.timeout), 2).await,
        }
    }

    /// A cluster connection that gives up on a command after `response_timeout`, having retried
    /// it (after a refresh of the slot map) at most `retries` times.
    pub async fn cluster_conn(
        &self,
        response_timeout: Option<Duration>,
        retries: u32,
    ) -> Result<Conn, Error> {
        let Some(seeds) = &self.seeds else {
            return self.connect().await.map(Conn::Single);
        };
        let mut builder = ClusterClient::builder(seeds.iter().map(|s| s.info().clone()))
            .connection_timeout(self.timeout)
            .retries(retries)
            .min_retry_wait(50)
            .max_retry_wait(500);
        if let Some(t) = response_timeout {
            builder = builder.response_timeout(t);
        }
        if self.is_tls() {
            // The nodes' addresses are then `rediss://` ones; their sockets, with our trust,
            // come from `Node`.
            builder = builder.tls(if self.is_insecure() {
                redis::TlsMode::Insecure
            } else {
                redis::TlsMode::Secure
            });
        }
        let client = builder.build().map_err(|e| self.url.bad(describe(&e)))?;
        self.dial()?.for_nodes();
        self.bounded(client.get_async_generic_connection::<Node>())
            .await
            .map(Conn::Cluster)
    }

    /// The server that serves `key`: this one, or on a cluster a direct connection target to the
    /// master of the key's hash slot (found with CLUSTER KEYSLOT and CLUSTER SLOTS).
    pub async fn node_for_key(&self, key: &str) -> Result<Self, Error> {
        if self.seeds.is_none() {
            return Ok(self.clone());
        }
        let mut conn = self.conn().await?;
        let slot: i64 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query_async(&mut conn)
            .await
            .map_err(|e| Error::Command {
                command: "CLUSTER KEYSLOT".to_owned(),
                reason: describe(&e),
            })?;
        let slots = cluster_slots(&mut conn).await?;
        let (host, port) = master_of(&slots, slot).ok_or_else(|| Error::Command {
            command: "CLUSTER SLOTS".into(),
            reason: format!("no master serves slot {slot}"),
        })?;
        self.node_at(&host, port)
    }

    /// Every master: this server, or on a cluster a direct connection target to each master
    /// that serves slots (CLUSTER SLOTS).
    pub async fn masters(&self) -> Result<Vec<Self>, Error> {
        if self.seeds.is_none() {
            return Ok(vec![self.clone()]);
        }
        let slots = cluster_slots(&mut self.conn().await?).await?;
        masters(&slots)
            .into_iter()
            .map(|(host, port)| self.node_at(&host, port))
            .collect()
    }

    /// A direct connection target to the cluster node at `host:port`, with this one's
    /// credentials and TLS settings.
    fn node_at(&self, host: &str, port: u16) -> Result<Self, Error> {
        // An empty host (a node that has not learned its own address, a one-node cluster)
        // means the node we asked, as for redis-cli.
        let host = if host.is_empty() {
            self.addr()?.0
        } else {
            host.to_owned()
        };
        Ok(Self {
            url: self.url.node(&host, port),
            timeout: self.timeout,
            seeds: None,
            tls: self.tls.clone(),
        })
    }

    /// A multiplexed connection that reconnects by itself: after the server went away, the
    /// commands sent while it is down fail (the caller counts them), and a later command finds
    /// it connected again once the server is back (dials back off from 50 ms to 1 s).
    pub async fn reconnecting(&self) -> Result<Reconnecting, Error> {
        Reconnecting::connect(self).await
    }

    /// Refuses a server behind the wrong scheme (`redis://` to TLS, `rediss://` to plain) in
    /// one line, within the timeout, for a caller that opens raw links of its own (`bench`).
    pub async fn check_scheme(&self) -> Result<(), Error> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        match first_replies::check(self, deadline).await {
            Err(refused @ first_replies::Refused::Scheme(_)) => Err(Error::Connect {
                url: self.url.clone(),
                reason: refused.words().0,
            }),
            _ => Ok(()),
        }
    }

    /// The URL (the first seed's, for a cluster): it shows itself with its password hidden.
    pub fn url(&self) -> &RedisUrl {
        &self.url
    }

    /// The connect timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The database number the URL selects (`/0` when it names none).
    pub fn db(&self) -> i64 {
        self.url.db()
    }

    /// The shared, multiplexed connection: commands from many tasks share its socket. Replies
    /// slower than the timeout fail rather than hang.
    pub async fn connect(&self) -> Result<MultiplexedConnection, Error> {
        self.multiplexed(self.url.info(), Some(self.timeout)).await
    }

    /// A connection of its own, with no reply timeout, for commands that block it (BLPOP,
    /// BRPOPLPUSH) or keep state on it (WATCH). Bound every command on it with your own timeout.
    pub async fn connect_blocking(&self) -> Result<MultiplexedConnection, Error> {
        self.multiplexed(self.url.info(), None).await
    }

    /// Like [`Redis::connect`], on database `db` of the same server.
    pub async fn connect_db(&self, db: i64) -> Result<MultiplexedConnection, Error> {
        let info = self.url.info();
        let info = info
            .clone()
            .set_redis_settings(info.redis_settings().clone().set_db(db));
        self.multiplexed(&info, Some(self.timeout)).await
    }

    /// A subscriber connection (RESP2 pub/sub).
    pub async fn pubsub(&self) -> Result<PubSub, Error> {
        self.pubsub_raw().await.map_err(|(e, _)| e)
    }

    /// Like [`Redis::pubsub`], the failure with the redis error behind it (none for a
    /// timeout), as [`Redis::connect_raw`].
    pub async fn pubsub_raw(&self) -> Result<PubSub, (Error, Option<redis::RedisError>)> {
        let dial = self.dial().map_err(|e| (e, None))?;
        self.bounded_raw(dial.pubsub(self.url.info())).await
    }

    fn config(&self, response_timeout: Option<Duration>) -> AsyncConnectionConfig {
        AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(response_timeout)
    }

    /// How the redis crate's connections reach this server: the TLS connector of a
    /// `rediss://` URL, the connect timeout.
    fn dial(&self) -> Result<Dial, Error> {
        Ok(Dial {
            tls: self.tls_connector()?,
            timeout: self.timeout,
        })
    }

    async fn multiplexed(
        &self,
        info: &ConnectionInfo,
        response_timeout: Option<Duration>,
    ) -> Result<MultiplexedConnection, Error> {
        let dial = self.dial()?;
        let config = self.config(response_timeout);
        self.bounded(dial.multiplexed(info, config)).await
    }

    /// Like [`Redis::connect`], the failure with the redis error behind it (none for a
    /// timeout), for callers that tell a lost server from one that is not Redis.
    pub async fn connect_raw(
        &self,
    ) -> Result<MultiplexedConnection, (Error, Option<redis::RedisError>)> {
        let dial = self.dial().map_err(|e| (e, None))?;
        let config = self.config(Some(self.timeout));
        self.bounded_raw(dial.multiplexed(self.url.info(), config))
            .await
    }

    /// [`Redis::connect_raw`] with its failure as a redis error (a timeout as an I/O one), for
    /// what hands the crate's errors on (the pool, [`Reconnecting`]).
    async fn connect_as_redis(&self) -> RedisResult<MultiplexedConnection> {
        self.connect_raw().await.map_err(|(error, cause)| {
            cause.unwrap_or_else(|| {
                RedisError::from(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    error.to_string(),
                ))
            })
        })
    }

    /// Runs a connection attempt within the timeout and names the failure.
    async fn bounded<T>(&self, attempt: impl Future<Output = RedisResult<T>>) -> Result<T, Error> {
        self.bounded_raw(attempt).await.map_err(|(e, _)| e)
    }

    /// [`Redis::bounded`], keeping the redis error. The server's first replies are read
    /// through our bounded link first ([`first_replies::check`]), within the same timeout.
    async fn bounded_raw<T>(
        &self,
        attempt: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, (Error, Option<redis::RedisError>)> {
        let fail = |reason| Error::Connect {
            url: self.url.clone(),
            reason,
        };
        let timed_out = || fail(timed_out(self.timeout, self.is_tls()));
        let deadline = tokio::time::Instant::now() + self.timeout;
        let checked = async {
            if let Err(refused) = first_replies::check(self, deadline).await {
                let (why, e) = refused.words();
                return Err((fail(why), Some(e)));
            }
            match attempt.await {
                Ok(conn) => Ok(conn),
                Err(e) if e.is_timeout() => Err((timed_out(), None)),
                Err(e) => Err((fail(describe(&e)), Some(e))),
            }
        };
        tokio::time::timeout_at(deadline, checked)
            .await
            .unwrap_or_else(|_| Err((timed_out(), None)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_urls_are_usage_errors() {
        for url in ["foo", "redis://h:x/0", "redis://127.0.0.1:6379/abc"] {
            let e = Redis::new(url, DEFAULT_TIMEOUT).unwrap_err();
            assert!(matches!(e, Error::BadUrl(_)), "{url}: {e:?} is not BadUrl");
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
