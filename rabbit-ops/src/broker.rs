//! The connection to RabbitMQ: the one place where connections are made, and remade (amiquip
//! has no recovery of its own), and the declarations every tutorial shares, with their errors
//! turned into lines that say what to do.
//!
//! A [`Broker`] may name several nodes (`--url` given more than once, or a comma-separated
//! `$AMQP_URL`): [`Broker::connect`] tries them in turn, starting with the one that worked last.
//! After a connection is lost, [`Broker::reconnect`] starts with the *next* node and retries
//! with a bounded exponential [`Backoff`] (100 ms doubling to 5 s), one log line per attempt.
//!
//! amiquip has no connect timeout of its own, so [`Broker::connect`] opens the TCP stream with
//! [`TcpStream::connect_timeout`], then hands it to [`Connection::insecure_open_stream`]. The
//! handshake runs on amiquip's non-blocking I/O thread, where socket read timeouts mean
//! nothing, and amiquip's own `connection_timeout` only notices a peer that is completely
//! silent (a peer that answers garbage and then waits keeps it busy). So a watchdog thread
//! holds a clone of the socket and shuts it down if the handshake is not over by the deadline:
//! a refused port, a silent peer, or a peer that is not RabbitMQ all end within
//! `--connect-timeout`.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use amiquip::{
    Auth, Channel, Connection, ConnectionOptions, ConnectionTuning, Exchange,
    ExchangeDeclareOptions, ExchangeType, FieldTable, Queue, QueueDeclareOptions,
};
use tracing::{debug, info, warn};

use crate::consume::Stop;
use crate::error::{Error, secs};
use crate::url::AmqpUrl;

/// Where the broker (or the nodes of a cluster) is and how long to wait for it.
#[derive(Debug, Clone)]
pub struct Broker {
    urls: Vec<AmqpUrl>,
    connect_timeout: Duration,
    /// Index of the URL to try first: the one that worked last (shared by clones).
    preferred: Arc<AtomicUsize>,
}

/// The delays between reconnection attempts: 100 ms, doubling, at most 5 s.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Backoff::FIRST, Backoff::MAX)
    }
}

impl Backoff {
    /// The first delay.
    pub const FIRST: Duration = Duration::from_millis(100);
    /// The longest delay.
    pub const MAX: Duration = Duration::from_secs(5);

    /// Delays from `first`, doubling up to `max`.
    pub fn new(first: Duration, max: Duration) -> Self {
        Self { next: first, max }
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        d
    }
}

/// How [`Broker::reconnect`] ended.
pub enum Reconnected {
    /// A new connection.
    Connected(Connection),
    /// A stop was requested while waiting.
    Stopped,
    /// The deadline passed; the last attempt's failure.
    GaveUp(Error),
}

impl Broker {
    /// Parses the URL (a bad one is a usage error, exit 2).
    pub fn new(url: &str, connect_timeout: Duration) -> Result<Self, Error> {
        Self::with_urls(&[url], connect_timeout)
    }

    /// Several nodes of one cluster (or one broker): connections go to the first that answers.
    pub fn with_urls<S: AsRef<str>>(urls: &[S], connect_timeout: Duration) -> Result<Self, Error> {
        let urls = urls
            .iter()
            .map(|u| {
                let u = u.as_ref();
                AmqpUrl::parse(u).map_err(|reason| Error::BadUrl {
                    url: common::redact::redact_url(u),
                    reason,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        assert!(!urls.is_empty(), "a broker needs at least one URL");
        Ok(Self {
            urls,
            connect_timeout,
            preferred: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The parsed URL tried first.
    pub fn url(&self) -> &AmqpUrl {
        &self.urls[self.preferred.load(Ordering::Relaxed) % self.urls.len()]
    }

    /// Every URL, in the order given.
    pub fn urls(&self) -> &[AmqpUrl] {
        &self.urls
    }

    /// Opens a connection to the first node that takes it, starting with the one that worked
    /// last. With one URL, its error as it is; with several, every node's.
    pub fn connect(&self) -> Result<Connection, Error> {
        let n = self.urls.len();
        let start = self.preferred.load(Ordering::Relaxed);
        let mut reasons = Vec::new();
        for i in 0..n {
            let at = (start + i) % n;
            match self.connect_to(&self.urls[at]) {
                Ok(c) => {
                    self.preferred.store(at, Ordering::Relaxed);
                    return Ok(c);
                }
                Err(e) if n == 1 => return Err(e),
                Err(e) => {
                    debug!("{e}");
                    reasons.push(e.to_string());
                }
            }
        }
        Err(Error::ConnectAll {
            tried: n,
            reasons: reasons.join("; "),
        })
    }

    /// After a lost connection (`why`): connects again, starting with the next node, retrying
    /// with [`Backoff`] until it works, `stop` is requested, or `give_up` passes. Logs one line
    /// per attempt (warnings: they show without `-v`).
    pub fn reconnect(&self, why: &Error, stop: &Stop, give_up: Option<Instant>) -> Reconnected {
        warn!("connection lost ({why}); reconnecting");
        if self.urls.len() > 1 {
            self.preferred.fetch_add(1, Ordering::Relaxed);
        }
        let mut backoff = Backoff::default();
        let mut attempt = 1u32;
        loop {
            match self.connect() {
                Ok(c) => {
                    warn!(
                        "reconnected to {} (attempt {attempt})",
                        self.url().redacted()
                    );
                    return Reconnected::Connected(c);
                }
                Err(e) => {
                    let delay = backoff.next_delay();
                    if give_up.is_some_and(|g| Instant::now() + delay >= g) {
                        warn!("reconnect attempt {attempt} failed: {e}; giving up");
                        return Reconnected::GaveUp(e);
                    }
                    warn!(
                        "reconnect attempt {attempt} failed: {e}; next in {} ms",
                        delay.as_millis()
                    );
                    if !stop.sleep(delay) {
                        return Reconnected::Stopped;
                    }
                    attempt += 1;
                }
            }
        }
    }

    /// Opens a connection: TCP within the timeout, then the AMQP handshake within what is left.
    fn connect_to(&self, url: &AmqpUrl) -> Result<Connection, Error> {
        let fail = |reason: String| Error::Connect {
            url: url.redacted(),
            reason,
        };
        let deadline = Instant::now() + self.connect_timeout;
        let stream = self.tcp(url, deadline).map_err(fail)?;
        if let Err(e) = stream.set_nodelay(true) {
            debug!("cannot set TCP_NODELAY: {e}");
        }
        let socket_error = |e: io::Error| fail(format!("cannot use the socket: {}", short_io(&e)));
        let watchdog = Watchdog::arm(stream.try_clone().map_err(socket_error)?, deadline)
            .map_err(socket_error)?;
        let stream =
            FirstFrameCheck::new(mio06::net::TcpStream::from_stream(stream).map_err(socket_error)?);
        let mut options = ConnectionOptions::default()
            .auth(Auth::Plain {
                username: url.user.clone(),
                password: url.password.clone(),
            })
            .virtual_host(url.vhost.clone())
            // A silent peer: amiquip notices it too (the watchdog is the hard limit).
            .connection_timeout(Some(self.connect_timeout))
            .information(Some(format!("rabbit-ops {}", env!("CARGO_PKG_VERSION"))));
        if let Some(h) = url.heartbeat {
            options = options.heartbeat(h);
        }
        let opened = Connection::insecure_open_stream(stream, options, ConnectionTuning::default());
        let fired = watchdog.disarm();
        match opened {
            // Whatever amiquip says once the watchdog shut the socket down, it is the deadline.
            _ if fired => Err(fail(format!(
                "no AMQP handshake within {}: is this a RabbitMQ port?",
                secs(self.connect_timeout)
            ))),
            Ok(connection) => {
                info!("connected to {}", url.redacted());
                Ok(connection)
            }
            Err(e) => Err(fail(self.handshake_failure(url, &e))),
        }
    }

    /// Connects and opens one channel.
    pub fn session(&self) -> Result<Session, Error> {
        Session::open(self.connect()?)
    }

    fn tcp(&self, url: &AmqpUrl, deadline: Instant) -> Result<TcpStream, String> {
        let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve '{}': {}", url.host, short_io(&e)))?
            .collect();
        let mut last = format!("'{}' has no address", url.host);
        for addr in addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "no TCP connection within {}",
                    secs(self.connect_timeout)
                ));
            }
            debug!("connecting to {addr}");
            match TcpStream::connect_timeout(&addr, left) {
                Ok(s) => return Ok(s),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    last = format!("no TCP connection within {}", secs(self.connect_timeout));
                }
                Err(e) => last = short_io(&e),
            }
        }
        Err(last)
    }

    /// Why the AMQP handshake failed, and what to do about it.
    fn handshake_failure(&self, url: &AmqpUrl, e: &amiquip::Error) -> String {
        match e {
            amiquip::Error::InvalidCredentials => format!(
                "access refused for user '{}': check the user name and password in --url or \
                 $AMQP_URL",
                url.user
            ),
            amiquip::Error::ServerClosedConnection { code, message } => {
                if message.contains("not found") && message.contains("vhost") {
                    format!(
                        "virtual host '{}' does not exist: create it (rabbitmqctl add_vhost {}) \
                         or fix the path of the URL",
                        url.vhost, url.vhost
                    )
                } else if message.contains("access to vhost") {
                    format!(
                        "user '{}' may not use virtual host '{}': grant it (rabbitmqctl \
                         set_permissions -p {} {} '.*' '.*' '.*')",
                        url.user, url.vhost, url.vhost, url.user
                    )
                } else if *code == 403 {
                    format!(
                        "access refused for user '{}': check the user name and password in \
                         --url or $AMQP_URL ({message})",
                        url.user
                    )
                } else {
                    format!("the broker refused the connection: {message} (code {code})")
                }
            }
            amiquip::Error::ConnectionTimeout => format!(
                "no AMQP handshake within {}: is this a RabbitMQ port?",
                secs(self.connect_timeout)
            ),
            amiquip::Error::MalformedFrame | amiquip::Error::FrameUnexpected => {
                "the peer does not speak AMQP 0-9-1: is this a RabbitMQ port?".to_owned()
            }
            amiquip::Error::UnexpectedSocketClose => {
                "the peer closed the connection during the AMQP handshake".to_owned()
            }
            amiquip::Error::IoErrorReadingSocket { source }
            | amiquip::Error::IoErrorWritingSocket { source } => {
                if source.kind() == io::ErrorKind::InvalidData {
                    source.to_string()
                } else {
                    short_io(source)
                }
            }
            other => other.to_string(),
        }
    }
}

/// The socket amiquip gets, checking that the first bytes the peer sends start an AMQP frame.
///
/// amiquip trusts the size field of the first frame header and allocates that much: a peer
/// that answers `HTTP/1.1 400` would cost 1.3 GB ("P/1." read as a size). A RabbitMQ server's
/// first frame is `connection.start`, a method frame (type 1) on channel 0, a few hundred
/// bytes long; anything else is refused as not AMQP before amiquip sees it.
struct FirstFrameCheck {
    inner: mio06::net::TcpStream,
    head: [u8; 7],
    seen: usize,
}

/// The largest first frame accepted (RabbitMQ's `connection.start` is well under 1 KiB).
const FIRST_FRAME_MAX: u32 = 64 * 1024;

impl FirstFrameCheck {
    fn new(inner: mio06::net::TcpStream) -> Self {
        Self {
            inner,
            head: [0; 7],
            seen: 0,
        }
    }

    /// Whether a frame header (type, channel, size) can be a server's first frame.
    fn plausible(head: [u8; 7]) -> bool {
        let size = u32::from_be_bytes([head[3], head[4], head[5], head[6]]);
        head[0] == 1 && head[1] == 0 && head[2] == 0 && size <= FIRST_FRAME_MAX
    }
}

impl io::Read for FirstFrameCheck {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.seen < self.head.len() {
            let take = n.min(self.head.len() - self.seen);
            self.head[self.seen..self.seen + take].copy_from_slice(&buf[..take]);
            self.seen += take;
            if self.seen == self.head.len() && !Self::plausible(self.head) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the peer does not speak AMQP 0-9-1: is this a RabbitMQ port?",
                ));
            }
        }
        Ok(n)
    }
}

impl io::Write for FirstFrameCheck {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl mio06::Evented for FirstFrameCheck {
    fn register(
        &self,
        poll: &mio06::Poll,
        token: mio06::Token,
        interest: mio06::Ready,
        opts: mio06::PollOpt,
    ) -> io::Result<()> {
        self.inner.register(poll, token, interest, opts)
    }
    fn reregister(
        &self,
        poll: &mio06::Poll,
        token: mio06::Token,
        interest: mio06::Ready,
        opts: mio06::PollOpt,
    ) -> io::Result<()> {
        self.inner.reregister(poll, token, interest, opts)
    }
    fn deregister(&self, poll: &mio06::Poll) -> io::Result<()> {
        self.inner.deregister(poll)
    }
}

impl amiquip::IoStream for FirstFrameCheck {}

/// Shuts a socket down at a deadline unless disarmed first.
struct Watchdog {
    state: Arc<Mutex<Watch>>,
    cancel: Option<crossbeam_channel::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watch {
    Armed,
    Disarmed,
    Fired,
}

impl Watchdog {
    fn arm(socket: TcpStream, deadline: Instant) -> io::Result<Self> {
        let state = Arc::new(Mutex::new(Watch::Armed));
        let (cancel, cancelled) = crossbeam_channel::bounded::<()>(0);
        let shared = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("amqp-connect-watchdog".into())
            .spawn(move || {
                if cancelled.recv_deadline(deadline).is_ok() {
                    return;
                }
                let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
                if *state == Watch::Armed {
                    debug!("handshake deadline passed: shutting the socket down");
                    let _ = socket.shutdown(Shutdown::Both);
                    *state = Watch::Fired;
                }
            })?;
        Ok(Self {
            state,
            cancel: Some(cancel),
            thread: Some(thread),
        })
    }

    /// Stops the watchdog; returns whether it had already fired.
    fn disarm(mut self) -> bool {
        let fired = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let fired = *state == Watch::Fired;
            *state = Watch::Disarmed;
            fired
        };
        drop(self.cancel.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        fired
    }
}

/// An I/O error in a few lower-case words: `connection refused`, not
/// `Connection refused (os error 111)`.
pub(crate) fn short_io(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => format!("{:?}", e.kind()),
    }
}

/// A connection with one open channel.
pub struct Session {
    /// The channel (declared before the connection so that it is dropped first).
    pub channel: Channel,
    /// The connection.
    pub connection: Connection,
}

impl Session {
    /// Opens a channel on `connection`.
    pub fn open(mut connection: Connection) -> Result<Self, Error> {
        let channel = connection
            .open_channel(None)
            .map_err(|e| Error::amqp("opening a channel", e))?;
        Ok(Session {
            channel,
            connection,
        })
    }

    /// Closes the channel, then the connection, and says so at debug level.
    pub fn close(self) -> Result<(), Error> {
        self.channel
            .close()
            .map_err(|e| Error::amqp("closing the channel", e))?;
        self.connection
            .close()
            .map_err(|e| Error::amqp("closing the connection", e))?;
        debug!("channel and connection closed");
        Ok(())
    }

    /// Sets the prefetch count (`basic.qos`): at most `n` unacknowledged messages at a time.
    pub fn prefetch(&self, n: u16) -> Result<(), Error> {
        self.channel
            .qos(0, n, false)
            .map_err(|e| Error::amqp(format!("setting prefetch to {n}"), e))
    }
}

/// Declares a queue; `flag` is the option that picks another name (for the error line).
pub fn declare_queue<'a>(
    channel: &'a Channel,
    name: &str,
    options: QueueDeclareOptions,
    flag: &'static str,
) -> Result<Queue<'a>, Error> {
    channel
        .queue_declare(name, options)
        .map_err(|e| redeclare(e, "queue", name, flag))
}

/// Declares an exchange (non-durable, as the tutorials do).
pub fn declare_exchange<'a>(
    channel: &'a Channel,
    name: &str,
    kind: ExchangeType,
) -> Result<Exchange<'a>, Error> {
    channel
        .exchange_declare(kind, name, ExchangeDeclareOptions::default())
        .map_err(|e| redeclare(e, "exchange", name, "exchange"))
}

/// Binds a queue to an exchange.
pub fn bind(
    queue: &Queue<'_>,
    exchange: &Exchange<'_>,
    key: &str,
    args: FieldTable,
) -> Result<(), Error> {
    queue.bind(exchange, key, args).map_err(|e| {
        Error::amqp(
            format!(
                "binding queue '{}' to exchange '{}' with key '{key}'",
                queue.name(),
                exchange.name()
            ),
            e,
        )
    })
}

fn redeclare(e: amiquip::Error, kind: &'static str, name: &str, flag: &'static str) -> Error {
    match e {
        amiquip::Error::ServerClosedChannel {
            code: 406, message, ..
        } => Error::Redeclare {
            kind,
            name: name.to_owned(),
            detail: message
                .strip_prefix("PRECONDITION_FAILED - ")
                .unwrap_or(&message)
                .to_owned(),
            how: if kind == "queue" {
                format!("rabbitmqctl delete_queue {name}")
            } else {
                format!("rabbitmqadmin delete exchange name={name}")
            },
            flag,
        },
        other => Error::amqp(format!("declaring {kind} '{name}'"), other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_seconds() {
        let mut b = Backoff::default();
        let ms: Vec<u128> = (0..9).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    }

    #[test]
    fn several_urls_all_refused_name_each() {
        let closed = || {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let (a, b) = (closed(), closed());
        let urls = [
            format!("amqp://guest:secret@127.0.0.1:{a}/%2f"),
            format!("amqp://guest:secret@127.0.0.1:{b}/%2f"),
        ];
        let broker = Broker::with_urls(&urls, Duration::from_secs(2)).unwrap();
        let e = broker.connect().unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "cannot connect to any of 2 brokers: cannot connect to \
                 amqp://guest:***@127.0.0.1:{a}/%2f: connection refused; cannot connect to \
                 amqp://guest:***@127.0.0.1:{b}/%2f: connection refused"
            )
        );
    }

    #[test]
    fn io_errors_are_short() {
        let e = io::Error::from_raw_os_error(111);
        assert_eq!(short_io(&e), "connection refused");
        let e = io::Error::other("Weird thing");
        assert_eq!(short_io(&e), "weird thing");
    }

    #[test]
    fn precondition_failed_says_what_to_do() {
        let e = redeclare(
            amiquip::Error::ServerClosedChannel {
                channel_id: 1,
                code: 406,
                message: "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'hello' \
                          in vhost '/': received 'true' but current is 'false'"
                    .into(),
            },
            "queue",
            "hello",
            "queue",
        );
        assert_eq!(
            e.to_string(),
            "queue 'hello' already exists with other settings (inequivalent arg 'durable' for \
             queue 'hello' in vhost '/': received 'true' but current is 'false'): delete it \
             (rabbitmqctl delete_queue hello) or pick another name with --queue"
        );
    }
}
