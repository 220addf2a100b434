//! One place where the stream client meets the broker, each step with a deadline: the check of
//! the peer ([`super::probe`]), the client's `Environment`, streams created and deleted,
//! producers and consumers built (with the diagnosis of a node that advertises an address this
//! machine cannot reach), and the client's errors in words.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::net::describe_io;
use rabbitmq_stream_client::error::{
    ClientError, ConsumerCreateError, ProducerCreateError, StreamCreateError, StreamDeleteError,
};
use rabbitmq_stream_client::types::{OffsetSpecification, ResponseCode};
use rabbitmq_stream_client::{
    Client, ClientOptions, Consumer, Environment, NoDedup, Producer, TlsConfiguration,
};
use tracing::debug;

use super::error::StreamError;
use super::probe;
use super::url::StreamUrl;

/// How long the check of an advertised address may take.
const ADVERTISED_CHECK: Duration = Duration::from_secs(2);

/// TLS for `rabbitmq-stream+tls://`: the same trust for our check of the peer (rustls 0.23, the
/// workspace's) and for the stream client (its own rustls, which reads PEM files).
#[derive(Clone)]
pub struct StreamTls {
    /// Our check's configuration ([`common::tls::Tls::rustls_client_config`]).
    pub config: Arc<rustls::ClientConfig>,
    /// The client's configuration: the same CA file (or the system's bundle), client
    /// certificate and key files, or `--insecure`.
    pub client: TlsConfiguration,
}

impl fmt::Debug for StreamTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamTls")
            .field("insecure", &self.client.trust_certificates_enabled())
            .field("cacert", &self.client.get_root_certificates_path())
            .finish_non_exhaustive()
    }
}

/// Where the stream broker is, and how long each step may take.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The broker.
    pub url: StreamUrl,
    /// TLS settings (for a `rabbitmq-stream+tls://` URL).
    pub tls: Option<StreamTls>,
    /// `--connect-timeout`: the TCP connection, TLS and the handshakes; and each request.
    pub timeout: Duration,
}

/// A checked connection: the client's environment, and what the broker said it is.
pub struct Connected {
    /// The client's entry point.
    pub env: Environment,
    /// `RabbitMQ 3.10.8`.
    pub server: String,
}

impl fmt::Debug for Connected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connected")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// Whether [`Endpoint::create_stream`] made the stream or found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// Made now.
    New,
    /// It was there with the same settings.
    Existed,
}

impl Endpoint {
    /// Checks the peer, then opens the client's environment, within `--connect-timeout`; a
    /// connection the peer closes early is tried again (up to `RETRIES` times).
    pub async fn connect(&self) -> Result<Connected, StreamError> {
        let deadline = Instant::now() + self.timeout;
        let mut tries = 1;
        loop {
            match self.connect_once(deadline).await {
                Err(StreamError::Connect {
                    permanent: false, ..
                }) if tries < RETRIES && Instant::now() < deadline => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                other => return other,
            }
        }
    }

    /// [`Endpoint::connect`], then [`Endpoint::create_stream`]: what every tutorial program
    /// does first.
    pub async fn ready(
        &self,
        stream: &str,
        arguments: &[(&str, String)],
    ) -> Result<Connected, StreamError> {
        let connected = self.connect().await?;
        self.create_stream(&connected.env, stream, arguments)
            .await?;
        Ok(connected)
    }

    async fn connect_once(&self, deadline: Instant) -> Result<Connected, StreamError> {
        let peer = probe::check(&self.url, self.tls.as_ref().map(|t| &t.config), deadline).await?;
        debug!("{}: {}", self.url, peer.server);
        let builder = || {
            let mut builder = Environment::builder()
                .host(&self.url.host)
                .port(self.url.port)
                .username(&self.url.user)
                .password(&self.url.password)
                .virtual_host(&self.url.vhost);
            if let Some(tls) = &self.tls {
                builder = builder.tls(tls.client.clone());
            }
            builder.build()
        };
        let env = match tokio::time::timeout_at(deadline.into(), retried(builder)).await {
            Err(_) => {
                return Err(self.connect_error(
                    format!("the handshake did not end within {}", short(self.timeout)),
                    false,
                ));
            }
            Ok(Err(e)) => {
                let permanent = matches!(e, ClientError::RequestError(_));
                return Err(self.connect_error(client_words(&e), permanent));
            }
            Ok(Ok(env)) => env,
        };
        Ok(Connected {
            env,
            server: peer.server,
        })
    }

    fn connect_error(&self, reason: String, permanent: bool) -> StreamError {
        StreamError::Connect {
            url: self.url.redacted(),
            reason,
            permanent,
        }
    }

    /// Runs one request of the client within `--connect-timeout`.
    pub async fn within<T>(
        &self,
        doing: &str,
        request: impl Future<Output = T>,
    ) -> Result<T, StreamError> {
        tokio::time::timeout(self.timeout, request)
            .await
            .map_err(|_| StreamError::Stalled {
                doing: doing.to_owned(),
                waited: self.timeout,
            })
    }

    /// Creates `stream` with `arguments` (`max-length-bytes`...), or finds it. A stream made
    /// with other arguments (another retention, a leader locator) is used as it is, with a
    /// warning on stderr, as the official programs go on; a classic or quorum queue of that
    /// name is an error that says so.
    pub async fn create_stream(
        &self,
        env: &Environment,
        stream: &str,
        arguments: &[(&str, String)],
    ) -> Result<Created, StreamError> {
        let doing = format!("creating stream '{stream}'");
        let mut creator = env.stream_creator();
        // Only the arguments given: the client adds a leader locator of its own, which the
        // other clients (rstream) do not, and a stream declared with other arguments is refused.
        creator.options.clear();
        for (k, v) in arguments {
            creator.options.insert((*k).to_owned(), v.clone());
        }
        match self.within(&doing, creator.create(stream)).await? {
            Ok(()) => Ok(Created::New),
            Err(StreamCreateError::Create { status, .. }) => match status {
                ResponseCode::StreamAlreadyExists => Ok(Created::Existed),
                ResponseCode::PrecoditionFailed => self.why_taken(stream).await,
                code => Err(StreamError::Refused {
                    doing,
                    code: code_words(&code),
                }),
            },
            Err(StreamCreateError::Client(e)) => Err(failed(doing, &e)),
        }
    }

    /// A create refused with PRECONDITION_FAILED: the stream exists with other arguments (it
    /// has a leader in the metadata: used as it is, with a warning), or the name is a queue's.
    async fn why_taken(&self, stream: &str) -> Result<Created, StreamError> {
        if let Ok(Some(_)) = self.metadata(stream).await {
            common::exit::say(&format!(
                "warning: stream '{stream}' exists with other settings (retention or leader \
                 locator): using it as it is"
            ));
            return Ok(Created::Existed);
        }
        Err(StreamError::NotAStream {
            name: stream.to_owned(),
        })
    }

    /// Deletes `stream`; a stream already gone is no error.
    pub async fn delete_stream(&self, env: &Environment, stream: &str) -> Result<(), StreamError> {
        let doing = format!("deleting stream '{stream}'");
        match self.within(&doing, env.delete_stream(stream)).await? {
            Ok(())
            | Err(StreamDeleteError::Delete {
                status: ResponseCode::StreamDoesNotExist,
                ..
            }) => Ok(()),
            Err(StreamDeleteError::Delete { status, .. }) => Err(StreamError::Refused {
                doing,
                code: code_words(&status),
            }),
            Err(StreamDeleteError::Client(e)) => Err(failed(doing, &e)),
        }
    }

    /// A producer on `stream` (the client connects to the stream's leader) that publishes as
    /// soon as `batch` messages wait (else every 100 ms, the client's timer): 1 for a single
    /// message, not to wait for the timer.
    pub async fn producer(
        &self,
        env: &Environment,
        stream: &str,
        batch: usize,
    ) -> Result<Producer<NoDedup>, StreamError> {
        let doing = format!("creating a producer on stream '{stream}'");
        let built = tokio::time::timeout(
            self.timeout,
            retried(|| env.producer().batch_size(batch.max(1)).build(stream)),
        )
        .await;
        let error = match built {
            Ok(Ok(p)) => return Ok(p),
            Ok(Err(ProducerCreateError::StreamDoesNotExist { .. })) => {
                return Err(StreamError::NoSuchStream {
                    name: stream.to_owned(),
                });
            }
            Ok(Err(ProducerCreateError::Create { status, .. })) => {
                return Err(StreamError::Refused {
                    doing,
                    code: code_words(&status),
                });
            }
            Ok(Err(ProducerCreateError::Client(e))) => failed(doing, &e),
            Err(_) => StreamError::Stalled {
                doing,
                waited: self.timeout,
            },
        };
        Err(self.advertised(stream).await.unwrap_or(error))
    }

    /// A consumer on `stream` from `offset`, named `name` (for stored offsets) if given.
    pub async fn consumer(
        &self,
        env: &Environment,
        stream: &str,
        name: Option<&str>,
        offset: OffsetSpecification,
    ) -> Result<Consumer, StreamError> {
        let doing = format!("subscribing to stream '{stream}'");
        let build = || {
            let mut builder = env.consumer().offset(offset.clone());
            if let Some(name) = name {
                builder = builder.name(name);
            }
            builder.build(stream)
        };
        let built = tokio::time::timeout(self.timeout, retried(build)).await;
        let error = match built {
            Ok(Ok(c)) => return Ok(c),
            Ok(Err(ConsumerCreateError::StreamDoesNotExist { .. })) => {
                return Err(StreamError::NoSuchStream {
                    name: stream.to_owned(),
                });
            }
            Ok(Err(ConsumerCreateError::Create { status, .. })) => {
                return Err(StreamError::Refused {
                    doing,
                    code: code_words(&status),
                });
            }
            Ok(Err(ConsumerCreateError::Client(e))) => failed(doing, &e),
            Err(_) => StreamError::Stalled {
                doing,
                waited: self.timeout,
            },
        };
        Err(self.advertised(stream).await.unwrap_or(error))
    }

    /// The leader and replicas of `stream` as the broker advertises them (`host:port`), or
    /// `None` when it has no such stream.
    pub async fn metadata(&self, stream: &str) -> Result<Option<Vec<String>>, StreamError> {
        let doing = format!("asking where stream '{stream}' is");
        let client = self.raw_client().await?;
        let answer = self
            .within(&doing, client.metadata(vec![stream.to_owned()]))
            .await;
        let _ = tokio::time::timeout(self.timeout, client.close()).await;
        let map = answer?.map_err(|e| failed(doing, &e))?;
        Ok(map.get(stream).and_then(|m| {
            if m.response_code != ResponseCode::Ok || m.leader.host.is_empty() {
                return None;
            }
            let mut nodes = vec![format!("{}:{}", m.leader.host, m.leader.port)];
            nodes.extend(m.replicas.iter().map(|r| format!("{}:{}", r.host, r.port)));
            Some(nodes)
        }))
    }

    /// After a producer or consumer could not be made: is it because the stream's nodes
    /// advertise an address that cannot be reached from here? `Some` says which.
    async fn advertised(&self, stream: &str) -> Option<StreamError> {
        let nodes = tokio::time::timeout(ADVERTISED_CHECK * 2, self.metadata(stream))
            .await
            .ok()?
            .ok()??;
        for node in nodes {
            if node == self.url.address() {
                continue;
            }
            let reached = tokio::time::timeout(
                ADVERTISED_CHECK,
                tokio::net::TcpStream::connect(node.as_str()),
            )
            .await;
            let reason = match reached {
                Ok(Ok(_)) => continue,
                Ok(Err(e)) => describe_io(&e),
                Err(_) => format!("no TCP connection within {}", short(ADVERTISED_CHECK)),
            };
            return Some(StreamError::Advertised {
                stream: stream.to_owned(),
                advertised: node,
                reason,
            });
        }
        None
    }

    /// The client's raw connection to the URL's node (the peer checked first).
    pub async fn raw_client(&self) -> Result<Client, StreamError> {
        let deadline = Instant::now() + self.timeout;
        probe::check(&self.url, self.tls.as_ref().map(|t| &t.config), deadline).await?;
        let mut options = ClientOptions::builder()
            .host(&self.url.host)
            .port(self.url.port)
            .user(&self.url.user)
            .password(&self.url.password)
            .v_host(&self.url.vhost);
        if let Some(tls) = &self.tls {
            options = options.tls(tls.client.clone());
        }
        match tokio::time::timeout_at(deadline.into(), Client::connect(options.build())).await {
            Err(_) => Err(self.connect_error(
                format!("the handshake did not end within {}", short(self.timeout)),
                false,
            )),
            Ok(Err(e)) => Err(self.connect_error(client_words(&e), true)),
            Ok(Ok(c)) => Ok(c),
        }
    }
}

/// How many times a connection the peer closed during its TLS handshake is tried again.
const RETRIES: u32 = 3;

/// The client's errors that a new connection may not see: the socket closed or reset during a
/// TLS 1.3 handshake (RabbitMQ 3.10 asking for a client certificate closes one now and then).
trait Retryable {
    fn retryable(&self) -> bool;
}

impl Retryable for ClientError {
    fn retryable(&self) -> bool {
        matches!(self, ClientError::Io(_) | ClientError::ConnectionClosed)
    }
}

impl Retryable for ProducerCreateError {
    fn retryable(&self) -> bool {
        matches!(self, ProducerCreateError::Client(e) if e.retryable())
    }
}

impl Retryable for ConsumerCreateError {
    fn retryable(&self) -> bool {
        matches!(self, ConsumerCreateError::Client(e) if e.retryable())
    }
}

/// `attempt`, tried again (up to [`RETRIES`] times in all, the caller's deadline over them)
/// while it fails with a closed connection.
async fn retried<T, E: Retryable, F: Future<Output = Result<T, E>>>(
    mut attempt: impl FnMut() -> F,
) -> Result<T, E> {
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(e) if e.retryable() && tries < RETRIES => {
                debug!("a stream connection closed while opening; trying again");
                tries += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

fn short(d: Duration) -> String {
    common::duration::duration(d)
}

/// A client error during `doing`.
pub fn failed(doing: String, e: &ClientError) -> StreamError {
    StreamError::Failed {
        doing,
        cause: client_words(e),
    }
}

/// The client's error in words.
pub fn client_words(e: &ClientError) -> String {
    match e {
        ClientError::Io(io) => describe_io(io),
        ClientError::RequestError(code) => code_words(code),
        ClientError::ConnectionClosed | ClientError::AlreadyClosed => {
            "the connection closed".to_owned()
        }
        ClientError::Tls(tls) => format!("TLS: {tls}"),
        other => other.to_string(),
    }
}

/// A response code in words, with what to do where there is something to do.
pub fn code_words(code: &ResponseCode) -> String {
    match code {
        ResponseCode::AuthenticationFailure | ResponseCode::SaslError => {
            "the broker refused the user name or password".to_owned()
        }
        ResponseCode::AuthenticationFailureLoopback => {
            "this user may only connect from the broker's own machine (loopback_users)".to_owned()
        }
        ResponseCode::VirtualHostAccessFailure => {
            "no access to the virtual host (it does not exist, or the user has no permission on it)"
                .to_owned()
        }
        ResponseCode::AccessRefused => "access refused (the user's permissions)".to_owned(),
        ResponseCode::StreamDoesNotExist => "the stream does not exist".to_owned(),
        ResponseCode::StreamNotAvailable => {
            "the stream is not available (its leader is being elected: try again)".to_owned()
        }
        ResponseCode::PrecoditionFailed => "PRECONDITION_FAILED".to_owned(),
        ResponseCode::OffsetNotFound => "no offset stored".to_owned(),
        ResponseCode::FrameTooLarge => "a frame too large for the broker".to_owned(),
        other => format!("{other:?}"),
    }
}
