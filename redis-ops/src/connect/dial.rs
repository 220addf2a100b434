//! How every redis-crate connection reaches its server (issue 22.4): we open the socket
//! ourselves (TCP, TLS with the trust of [`super::Redis::tls_connector`], or a Unix socket),
//! put it under [`Bounded`], and hand it to the crate, which says its hello (AUTH, SELECT,
//! CLIENT SETINFO) and runs the connection as before. Whatever the peer sends later, no reply
//! the crate reads grows past the bounds of [`crate::link::scan`]: the one that would fails the
//! connection.
//!
//! The multiplexed and subscriber connections are built here ([`Dial::multiplexed`],
//! [`Dial::pubsub`]); the pool's connections come from [`Dial::multiplexed`] too
//! (`super::pool`), and the cluster client's from [`Node`], which dials each node the cluster
//! names with the [`Dial`] its `cluster_conn` left (`Dial::for_nodes`).

use std::io;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection, PubSub};
use redis::cluster_async::Connect;
use redis::{
    AsyncConnectionConfig, Cmd, ConnectionAddr, ConnectionInfo, ErrorKind, IntoConnectionInfo,
    Pipeline, RedisError, RedisFuture, RedisResult, Value,
};
use rustls::pki_types::ServerName;
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::TlsConnector;

use super::bounded::Bounded;
use crate::link::socket::Socket;

/// A socket under its bounds.
pub type Stream = Bounded<Socket>;

/// What a connection needs besides its address: the TLS connector of a `rediss://` URL, and
/// the connect timeout (the cluster's nodes; the other callers bound the attempt themselves).
#[derive(Clone)]
pub struct Dial {
    pub(super) tls: Option<TlsConnector>,
    pub(super) timeout: Duration,
}

/// The [`Dial`] of the cluster client's nodes: the redis crate asks [`Node`] for a connection
/// with an address only, so the trust and timeout are left here by the one that built the
/// client (one cluster's settings per process: the last one built wins).
static NODES: RwLock<Option<Dial>> = RwLock::new(None);

impl Dial {
    /// The socket to `addr`, under its bounds.
    pub async fn stream(&self, addr: &ConnectionAddr) -> RedisResult<Stream> {
        let socket = match addr {
            ConnectionAddr::Tcp(host, port) => Socket::Plain(tcp(host, *port).await?),
            ConnectionAddr::TcpTls { host, port, .. } => {
                let Some(connector) = &self.tls else {
                    return Err(RedisError::from((
                        ErrorKind::InvalidClientConfig,
                        "no TLS settings for a rediss:// address",
                    )));
                };
                let name = ServerName::try_from(host.clone()).map_err(|_| {
                    RedisError::from((
                        ErrorKind::InvalidClientConfig,
                        "not a name a certificate can be checked against",
                        host.clone(),
                    ))
                })?;
                let tcp = tcp(host, *port).await?;
                Socket::Tls(Box::new(connector.connect(name, tcp).await?))
            }
            ConnectionAddr::Unix(path) => Socket::Unix(UnixStream::connect(path).await?),
            _ => {
                return Err(RedisError::from((
                    ErrorKind::InvalidClientConfig,
                    "an address of a kind this tool does not connect to",
                )));
            }
        };
        Ok(Bounded::new(socket))
    }

    /// A multiplexed connection to `info`'s server with `config`, its driver spawned.
    pub async fn multiplexed(
        &self,
        info: &ConnectionInfo,
        config: AsyncConnectionConfig,
    ) -> RedisResult<MultiplexedConnection> {
        let stream = self.stream(info.addr()).await?;
        let (conn, driver) =
            MultiplexedConnection::new_with_config(info.redis_settings(), stream, config).await?;
        tokio::spawn(driver);
        Ok(conn)
    }

    /// A RESP2 subscriber connection to `info`'s server.
    pub async fn pubsub(&self, info: &ConnectionInfo) -> RedisResult<PubSub> {
        let stream = self.stream(info.addr()).await?;
        PubSub::new(info.redis_settings(), stream).await
    }

    /// Leaves this dial for the cluster client's [`Node`] connections.
    pub(super) fn for_nodes(&self) {
        *NODES.write().unwrap_or_else(PoisonError::into_inner) = Some(self.clone());
    }
}

/// A TCP connection as the redis crate makes one: Nagle's algorithm left on, so that the
/// commands many tasks pipeline on one multiplexed connection leave in full segments
/// (TCP_NODELAY cost a third of the throughput of `pool`'s shared connection, 64 tasks).
async fn tcp(host: &str, port: u16) -> io::Result<TcpStream> {
    TcpStream::connect((host, port)).await
}

/// One node's connection of the cluster client: a multiplexed connection over a bounded
/// socket, dialed as `Dial::for_nodes` said.
#[derive(Clone)]
pub struct Node(MultiplexedConnection);

impl Connect for Node {
    fn connect_with_config<'a, T>(info: T, config: AsyncConnectionConfig) -> RedisFuture<'a, Self>
    where
        T: IntoConnectionInfo + Send + 'a,
    {
        Box::pin(async move {
            let info = info.into_connection_info()?;
            let dial = NODES
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
                .ok_or_else(|| {
                    RedisError::from((
                        ErrorKind::InvalidClientConfig,
                        "a cluster node dialed before its cluster",
                    ))
                })?;
            match tokio::time::timeout(dial.timeout, dial.multiplexed(&info, config)).await {
                Ok(conn) => conn.map(Node),
                Err(_) => Err(io::Error::from(io::ErrorKind::TimedOut).into()),
            }
        })
    }
}

impl ConnectionLike for Node {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        self.0.req_packed_command(cmd)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipe: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.0.req_packed_commands(pipe, offset, count)
    }

    fn get_db(&self) -> i64 {
        self.0.get_db()
    }
}
