//! One node: the TCP connection and the AMQP handshake within `--connect-timeout`, and why a
//! handshake failed, in words that say what to do.
//!
//! amiquip has no connect timeout of its own, so the TCP stream is opened here with
//! [`TcpStream::connect_timeout`], then handed to [`Connection::insecure_open_stream`] (or, for
//! `amqps://`, to `Connection::open_tls_stream`: see `tls.rs`). The handshake (TLS's too) runs on amiquip's non-blocking I/O thread, where socket read timeouts mean
//! nothing, and amiquip's own `connection_timeout` only notices a peer that is completely
//! silent (a peer that answers garbage and then waits keeps it busy). So a [`Watchdog`] holds a
//! clone of the socket and shuts it down if the handshake is not over by the deadline: a refused
//! port, a silent peer, or a peer that is not RabbitMQ all end within `--connect-timeout`.

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use amiquip::{Auth, Connection, ConnectionOptions, ConnectionTuning};
use common::duration::duration;
use common::net::describe_io;
use tracing::{debug, info};

use super::guard::{FirstFrameCheck, NOT_AMQP, Watchdog};
use super::tls::{self, TlsClient};
use crate::error::Error;
use crate::url::{AmqpUrl, DEFAULT_HEARTBEAT};

/// Why a connection failed, and whether trying again later may help.
struct Failed {
    reason: String,
    /// A refusal that waiting will not change: bad credentials, no such vhost, not AMQP.
    permanent: bool,
}

impl Failed {
    fn transient(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            permanent: false,
        }
    }

    fn permanent(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            permanent: true,
        }
    }
}

/// Connects to `url` (TCP, TLS for `amqps://` with `tls`, and the AMQP handshake) within
/// `allowed`; answers the connection and a clone of its socket (for a [`Watchdog`] that bounds
/// what comes next).
pub(crate) fn handshake(
    url: &AmqpUrl,
    tls: Option<&TlsClient>,
    allowed: Duration,
) -> Result<(Connection, TcpStream), Error> {
    let fail = |f: Failed| Error::Connect {
        url: url.redacted(),
        reason: f.reason,
        permanent: f.permanent,
    };
    let deadline = Instant::now() + allowed;
    let stream = tcp(url, deadline, allowed).map_err(fail)?;
    if let Err(e) = stream.set_nodelay(true) {
        debug!("cannot set TCP_NODELAY: {e}");
    }
    let socket_error = |e: io::Error| {
        fail(Failed::transient(format!(
            "cannot use the socket: {}",
            describe_io(&e)
        )))
    };
    let socket = stream.try_clone().map_err(socket_error)?;
    let watchdog =
        Watchdog::arm(socket.try_clone().map_err(socket_error)?, deadline).map_err(socket_error)?;
    let stream = mio06::net::TcpStream::from_stream(stream).map_err(socket_error)?;
    let options = ConnectionOptions::default()
        .auth(Auth::Plain {
            username: url.user.clone(),
            password: url.password.clone(),
        })
        .virtual_host(url.vhost.clone())
        // A silent peer: amiquip notices it too (the watchdog is the hard limit).
        .connection_timeout(Some(allowed))
        // Our own frame_max: amiquip takes the broker's otherwise (up to 4 GiB), and the
        // frame check refuses any frame over it.
        .frame_max(super::guard::FRAME_MAX)
        // A frozen broker is noticed after two heartbeats: ours, shorter than RabbitMQ's 60 s.
        .heartbeat(url.heartbeat.unwrap_or(DEFAULT_HEARTBEAT))
        .information(Some(format!("rabbit-ops {}", env!("CARGO_PKG_VERSION"))));
    let opened = open(url, tls, stream, options);
    let fired = watchdog.disarm();
    match opened {
        // Whatever amiquip says once the watchdog shut the socket down, it is the deadline.
        _ if fired => Err(fail(Failed::transient(silent(allowed)))),
        Ok(connection) => {
            info!("connected to {}", url.redacted());
            Ok((connection, socket))
        }
        Err(e) => Err(fail(match tls::describe_failure(url, tls, &e) {
            Some((reason, true)) => Failed::permanent(reason),
            Some((reason, false)) => Failed::transient(reason),
            None => handshake_failure(url, &e, allowed),
        })),
    }
}

/// Opens the connection on `stream`: TLS (the system's roots unless `client` is given, the
/// server's name from the URL), then AMQP; for an `amqp://` URL, AMQP behind the
/// [`FirstFrameCheck`].
fn open(
    url: &AmqpUrl,
    client: Option<&TlsClient>,
    stream: mio06::net::TcpStream,
    options: ConnectionOptions<Auth>,
) -> amiquip::Result<Connection> {
    let tuning = ConnectionTuning::default();
    if url.tls {
        let connector = tls::connector(client)?;
        Connection::open_tls_stream(connector, &url.host, stream, options, tuning)
    } else {
        Connection::insecure_open_stream(FirstFrameCheck::new(stream), options, tuning)
    }
}

/// A peer that accepted the connection and did not answer the AMQP header in time.
fn silent(allowed: Duration) -> String {
    format!(
        "no AMQP handshake within {}: is this a RabbitMQ port?",
        duration(allowed)
    )
}

/// The TCP connection, to the first of the host's addresses that takes it by `deadline`.
fn tcp(url: &AmqpUrl, deadline: Instant, allowed: Duration) -> Result<TcpStream, Failed> {
    let too_late = || Failed::transient(format!("no TCP connection within {}", duration(allowed)));
    let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| {
            Failed::transient(format!(
                "cannot resolve '{}': {}",
                url.host,
                describe_io(&e)
            ))
        })?
        .collect();
    let mut last = Failed::transient(format!("'{}' has no address", url.host));
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(too_late());
        }
        debug!("connecting to {addr}");
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => last = too_late(),
            Err(e) => last = Failed::transient(describe_io(&e)),
        }
    }
    Err(last)
}

/// Why the AMQP handshake failed, and what to do about it.
fn handshake_failure(url: &AmqpUrl, e: &amiquip::Error, allowed: Duration) -> Failed {
    match e {
        amiquip::Error::InvalidCredentials => Failed::permanent(format!(
            "access refused for user '{}': check the user name and password in --url or \
             $AMQP_URL",
            url.user
        )),
        amiquip::Error::ServerClosedConnection { code, message } => {
            if message.contains("not found") && message.contains("vhost") {
                Failed::permanent(format!(
                    "virtual host '{}' does not exist: create it (rabbitmqctl add_vhost {}) or \
                     fix the path of the URL",
                    url.vhost, url.vhost
                ))
            } else if message.contains("access to vhost") {
                Failed::permanent(format!(
                    "user '{}' may not use virtual host '{}': grant it (rabbitmqctl \
                     set_permissions -p {} {} '.*' '.*' '.*')",
                    url.user, url.vhost, url.vhost, url.user
                ))
            } else if *code == 403 {
                Failed::permanent(format!(
                    "access refused for user '{}': check the user name and password in --url \
                     or $AMQP_URL ({message})",
                    url.user
                ))
            } else {
                // 320 CONNECTION_FORCED: a node booting or shutting down.
                Failed::transient(format!(
                    "the broker refused the connection: {message} (code {code})"
                ))
            }
        }
        amiquip::Error::ConnectionTimeout => Failed::transient(silent(allowed)),
        amiquip::Error::MalformedFrame | amiquip::Error::FrameUnexpected => {
            Failed::permanent(NOT_AMQP)
        }
        amiquip::Error::UnexpectedSocketClose => {
            Failed::transient("the peer closed the connection during the AMQP handshake")
        }
        amiquip::Error::IoErrorReadingSocket { source }
        | amiquip::Error::IoErrorWritingSocket { source } => {
            if source.kind() == io::ErrorKind::InvalidData {
                Failed::permanent(source.to_string())
            } else {
                Failed::transient(describe_io(source))
            }
        }
        other => Failed::transient(other.to_string()),
    }
}
