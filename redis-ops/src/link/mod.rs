//! One raw connection to a Redis server speaking RESP2, the one `ping` and `bench` use: it
//! connects (TCP, or TLS for `rediss://`: `socket.rs`), says hello as the URL asks (AUTH with
//! its password, SELECT its database; a check adds PING between them: [`Hello`]), then
//! exchanges commands and replies, each exchange before a deadline. The encoder and the strict
//! parser are [`resp`].
//!
//! Two ways to exchange:
//!
//! - [`Link::call`]: one command and its whole reply, copied out ([`Answer`]): the hello and
//!   the steps of a check;
//! - [`Link::pipeline`]: commands already encoded, written at once, and their replies handed
//!   over one by one where they lie in the read buffer (no copy): the hot path of `bench`.
//!
//! A failure says what broke ([`Broke`]) and, for a command, what came of its reply
//! ([`Failed`]), so that each caller words it its own way: `ping` as "not ready yet" or "not
//! Redis", `bench` as a lost connection or a refusal.

pub mod resp;
pub mod scan;
pub mod scheme;
pub(crate) mod socket;

use std::fmt;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsConnector;

pub use resp::{Kind, ProtocolError};
use scan::Scanner;
use socket::{Socket, describe_tls_io};

use crate::url::Secret;

/// The longest reply [`Link::call`] reads (INFO is a few kB, CLUSTER SLOTS of a large cluster
/// some hundred): a peer sending more is not the Redis we expect.
pub const MAX_REPLY: usize = 4 << 20;

/// Where a link goes, and who it says it is.
#[derive(Clone)]
pub struct Endpoint {
    /// The server's host name or address.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The TLS connector of a `rediss://` URL (the server's certificate checked against `host`).
    pub tls: Option<TlsConnector>,
    /// The user name AUTH gives (with a password only).
    pub user: Option<String>,
    /// The password: AUTH is sent when there is one.
    pub password: Option<Secret>,
    /// The database SELECT chooses when it is not 0.
    pub db: i64,
}

impl Endpoint {
    /// Another server (a node of the same cluster) with the same credentials and TLS settings.
    #[must_use]
    pub fn node(&self, host: &str, port: u16) -> Self {
        Self {
            host: host.to_owned(),
            port,
            ..self.clone()
        }
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls.is_some())
            .field("user", &self.user)
            .field("password", &self.password)
            .field("db", &self.db)
            .finish()
    }
}

/// What a link says once connected, before the caller's commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hello {
    /// AUTH when the URL has a password, SELECT when it names a database other than 0.
    Auth,
    /// The same with PING between them: the server must answer `+PONG` (a check).
    AuthPing,
}

/// One reply, whole, copied out of the read buffer.
#[derive(Debug, Clone)]
pub struct Answer {
    kind: Kind,
    raw: Vec<u8>,
}

impl Answer {
    /// The reply at the start of `raw`, if `raw` holds a whole one.
    pub fn parse(raw: &[u8]) -> Option<Self> {
        let r = resp::parse(raw).ok()??;
        Some(Self {
            kind: r.kind,
            raw: raw[..r.len].to_vec(),
        })
    }

    /// Its kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The reply as it came.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The text of a status or error reply.
    pub fn text(&self) -> String {
        resp::line_text(&self.raw)
    }

    /// The payload of a bulk string (`None` for any other reply).
    pub fn bulk(&self) -> Option<&[u8]> {
        if self.kind != Kind::Bulk {
            return None;
        }
        let start = self.raw.iter().position(|&b| b == b'\n')? + 1;
        self.raw.get(start..self.raw.len() - 2)
    }

    /// The reply as the redis crate reads it (for arrays: CLUSTER SLOTS).
    pub fn value(&self) -> Option<redis::Value> {
        redis::parse_redis_value(&self.raw).ok()
    }

    /// Is it the status reply `+<status>`?
    pub fn is_status(&self, status: &str) -> bool {
        self.kind == Kind::Status && self.text() == status
    }

    /// Is it an error reply?
    pub fn is_error(&self) -> bool {
        self.kind == Kind::Error
    }
}

/// Why an exchange did not complete.
#[derive(Debug)]
pub enum Broke {
    /// No whole reply before the deadline.
    Silent,
    /// Writing or reading failed: the cause in short words (`connection reset by peer`, a TLS
    /// reason).
    Io(String),
    /// The server closed the connection.
    Closed,
    /// The bytes are not RESP.
    NotResp(ProtocolError),
    /// A reply longer than this many bytes: [`MAX_REPLY`] for [`Link::call`], the caller's
    /// bound for [`Link::pipeline`].
    TooLong(usize),
    /// More replies than commands ([`Link::pipeline`] only).
    TooMany,
    /// A long reply, followed as it came, crossed one of the bounds of [`scan`].
    Overrun(scan::Overrun),
    /// The server speaks TLS behind `redis://` ([`scheme::SPEAKS_TLS`]): it reset the
    /// connection, and answers a TLS ClientHello.
    WrongScheme(&'static str),
    /// A whole reply other than the one the hello needs (`+OK` to AUTH and SELECT, `+PONG` to
    /// PING).
    Unexpected(Answer),
}

impl fmt::Display for Broke {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Silent => f.write_str("no reply in time"),
            Self::Io(why) => f.write_str(why),
            Self::Closed => f.write_str("the server closed the connection"),
            Self::NotResp(e) => write!(f, "{e}"),
            Self::TooLong(most) if most % (1 << 20) == 0 => {
                write!(f, "a reply longer than {} MiB", most >> 20)
            }
            Self::TooLong(most) => write!(f, "a reply longer than {most} bytes"),
            Self::TooMany => f.write_str("more replies than commands"),
            Self::Overrun(o) => write!(f, "{o}"),
            Self::WrongScheme(why) => f.write_str(why),
            Self::Unexpected(a) => f.write_str(&a.text()),
        }
    }
}

/// A command whose exchange failed: what broke, and what came of its reply.
#[derive(Debug)]
pub struct Failed {
    /// The command's name (`AUTH`, `PING`, `SET`...).
    pub command: String,
    /// What broke.
    pub broke: Broke,
    /// The bytes of its reply that came before it broke (never a whole reply).
    pub got: Vec<u8>,
    /// The command as it was sent, to tell a peer that echoes (AUTH's password as `***`).
    pub sent: Vec<u8>,
}

impl Failed {
    /// The same failure with every copy of `secret` in what was sent and received as `***`.
    fn hiding(mut self, secret: &[u8]) -> Self {
        for bytes in [&mut self.got, &mut self.sent] {
            *bytes = hide(bytes, secret);
        }
        if let Broke::Unexpected(a) = &mut self.broke {
            a.raw = hide(&a.raw, secret);
        }
        self
    }
}

/// `bytes` with every copy of `secret` replaced by `***`.
fn hide(bytes: &[u8], secret: &[u8]) -> Vec<u8> {
    if secret.is_empty() {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at..].starts_with(secret) {
            out.extend_from_slice(b"***");
            at += secret.len();
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    out
}

/// Why a link could not be opened.
#[derive(Debug)]
pub enum LinkError {
    /// No TCP connection or TLS session: the cause in short words (`connection refused`, `the
    /// server's certificate is not signed by a trusted CA (give its CA with --cacert)`), and
    /// whether TLS refused it (a certificate, a name, a client certificate: permanent).
    Connect {
        /// The cause in short words.
        why: String,
        /// TLS refused the connection: waiting will not change it.
        tls_refused: bool,
    },
    /// The deadline passed before the connection (and its TLS handshake) was made.
    NoConnection,
    /// A command of the hello failed.
    Hello(Failed),
    /// A plain Redis behind `rediss://` ([`scheme::NOT_TLS`]): the TLS handshake stalls, an
    /// inline PING on a plain connection is answered.
    WrongScheme(&'static str),
}

/// A connection to one server, said hello to.
pub struct Link {
    socket: Socket,
    /// What was read and not yet handed over: replies start at `at`.
    buf: Vec<u8>,
    at: usize,
    /// The last command [`Link::call`] sent.
    sent: Vec<u8>,
    /// For a reply found incomplete: how many of its bytes (from `at`) were followed, and the
    /// scanner that followed them, so that it is parsed again only once it is whole.
    scan: Option<(usize, Scanner)>,
}

impl Link {
    /// Connects to `to` and says `hello`, all before `deadline`.
    pub async fn open(to: &Endpoint, hello: Hello, deadline: Instant) -> Result<Self, LinkError> {
        let mut link = Self::connect(to, deadline).await?;
        link.hello(to, hello, deadline)
            .await
            .map_err(LinkError::Hello)?;
        Ok(link)
    }

    /// Connects to `to` (TCP, and TLS for `rediss://`) before `deadline`; nothing said yet.
    pub async fn connect(to: &Endpoint, deadline: Instant) -> Result<Self, LinkError> {
        let connect = socket::connect(&to.host, to.port, to.tls.as_ref());
        // Over TLS, a handshake still running after a moment may be a plain Redis's wait for
        // the end of a command: a plain PING on another connection tells.
        let plain = async {
            if to.tls.is_some() {
                tokio::time::sleep(scheme::PLAIN_PROBE_AFTER).await;
                if scheme::speaks_plain_resp(&to.host, to.port).await {
                    return;
                }
            }
            std::future::pending::<()>().await;
        };
        let either = async {
            tokio::select! {
                connected = connect => Ok(connected),
                () = plain => Err(LinkError::WrongScheme(scheme::NOT_TLS)),
            }
        };
        match timeout_at(deadline, either).await {
            Err(_) => Err(LinkError::NoConnection),
            Ok(Err(wrong)) => Err(wrong),
            Ok(Ok(Err((why, tls_refused)))) => Err(LinkError::Connect { why, tls_refused }),
            Ok(Ok(Ok(socket))) => Ok(Self {
                socket,
                buf: Vec::with_capacity(1024),
                at: 0,
                sent: Vec::new(),
                scan: None,
            }),
        }
    }

    /// Says `hello` as `to` asks, before `deadline`: AUTH with its password (which a failure
    /// shows as `***`), PING for a check, SELECT its database.
    ///
    /// A `redis://` server that breaks the connection at the first command, and answers a TLS
    /// ClientHello on another, is [`Broke::WrongScheme`].
    pub async fn hello(
        &mut self,
        to: &Endpoint,
        hello: Hello,
        deadline: Instant,
    ) -> Result<(), Failed> {
        match self.greet(to, hello, deadline).await {
            Err(f)
                if to.tls.is_none()
                    && f.got.is_empty()
                    && matches!(f.broke, Broke::Io(_) | Broke::Closed)
                    && timeout_at(deadline, scheme::speaks_tls(&to.host, to.port))
                        .await
                        .unwrap_or(false) =>
            {
                Err(Failed {
                    broke: Broke::WrongScheme(scheme::SPEAKS_TLS),
                    ..f
                })
            }
            said => said,
        }
    }

    /// [`Link::hello`]'s commands.
    async fn greet(
        &mut self,
        to: &Endpoint,
        hello: Hello,
        deadline: Instant,
    ) -> Result<(), Failed> {
        if let Some(password) = &to.password {
            let secret = password.expose().as_bytes();
            let mut auth: Vec<&[u8]> = vec![b"AUTH"];
            auth.extend(to.user.as_deref().map(str::as_bytes));
            auth.push(secret);
            self.expect(&auth, "OK", deadline)
                .await
                .map_err(|f| f.hiding(secret))?;
        }
        if hello == Hello::AuthPing {
            self.expect(&[b"PING"], "PONG", deadline).await?;
        }
        if to.db != 0 {
            let db = to.db.to_string();
            self.expect(&[b"SELECT", db.as_bytes()], "OK", deadline)
                .await?;
        }
        Ok(())
    }

    /// [`Link::call`], the answer must be the status reply `+<status>`.
    async fn expect(
        &mut self,
        args: &[&[u8]],
        status: &str,
        deadline: Instant,
    ) -> Result<(), Failed> {
        let answer = self.call(args, deadline).await?;
        if answer.is_status(status) {
            Ok(())
        } else {
            Err(self.failed(args, Broke::Unexpected(answer)))
        }
    }

    /// Sends one command and reads its whole reply (at most [`MAX_REPLY`] bytes), before
    /// `deadline`.
    pub async fn call(&mut self, args: &[&[u8]], deadline: Instant) -> Result<Answer, Failed> {
        self.sent.clear();
        resp::encode(&mut self.sent, args);
        self.discard();
        match timeout_at(deadline, self.exchange()).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(broke)) => Err(self.failed(args, broke)),
            Err(_) => Err(self.failed(args, Broke::Silent)),
        }
    }

    async fn exchange(&mut self) -> Result<Answer, Broke> {
        self.socket
            .write_all(&self.sent)
            .await
            .map_err(|e| Broke::Io(describe_tls_io(&e)))?;
        let (kind, raw) = self.reply(MAX_REPLY).await?;
        Ok(Answer {
            kind,
            raw: raw.to_vec(),
        })
    }

    /// The failure of the command `args`, with what came of its reply.
    fn failed(&self, args: &[&[u8]], broke: Broke) -> Failed {
        Failed {
            command: String::from_utf8_lossy(args.first().copied().unwrap_or_default())
                .into_owned(),
            broke,
            got: self.buf[self.at..].to_vec(),
            sent: self.sent.clone(),
        }
    }

    /// The last command [`Link::call`] sent, as it was encoded.
    pub fn last_sent(&self) -> &[u8] {
        &self.sent
    }

    /// Writes `commands` (`count` commands, encoded) at once, then hands each of their `count`
    /// replies to `each` as it is read: its kind and its bytes, where they lie in the read
    /// buffer. All before `deadline`; a reply still incomplete after `most` bytes is
    /// [`Broke::TooLong`]. `each` may stop the exchange with an error of its own
    /// (`Ok(Err(..))`); the link is then out of step, to be dropped.
    pub async fn pipeline<E>(
        &mut self,
        commands: &[u8],
        count: u64,
        most: usize,
        deadline: Instant,
        mut each: impl FnMut(Kind, &[u8]) -> Result<(), E>,
    ) -> Result<Result<(), E>, Broke> {
        self.discard();
        match timeout_at(deadline, self.replies(commands, count, most, &mut each)).await {
            Ok(r) => r,
            Err(_) => Err(Broke::Silent),
        }
    }

    async fn replies<E>(
        &mut self,
        commands: &[u8],
        count: u64,
        most: usize,
        each: &mut impl FnMut(Kind, &[u8]) -> Result<(), E>,
    ) -> Result<Result<(), E>, Broke> {
        self.socket
            .write_all(commands)
            .await
            .map_err(|e| Broke::Io(describe_tls_io(&e)))?;
        for _ in 0..count {
            let (kind, reply) = self.reply(most).await?;
            if let Err(e) = each(kind, reply) {
                return Ok(Err(e));
            }
        }
        // What came beyond the replies: a whole reply more is a peer out of step.
        match resp::parse(&self.buf[self.at..]) {
            Ok(None) => Ok(Ok(())),
            Ok(Some(_)) => Err(Broke::TooMany),
            Err(e) => Err(Broke::NotResp(e)),
        }
    }

    /// The next reply, reading until it is whole (a reply still incomplete after `most` bytes is
    /// [`Broke::TooLong`]). A reply found incomplete is followed by a [`Scanner`] as the rest
    /// arrives and parsed again only once the scanner has seen its end: a long reply costs one
    /// pass, not one per read.
    async fn reply(&mut self, most: usize) -> Result<(Kind, &[u8]), Broke> {
        loop {
            let pending = &self.buf[self.at..];
            if self
                .scan
                .as_ref()
                .is_some_and(|(followed, _)| *followed > pending.len())
            {
                self.scan = None; // the bytes it followed are gone (an exchange given up)
            }
            let whole = match &mut self.scan {
                None => true,
                Some((followed, scanner)) => {
                    let new = pending.get(*followed..).unwrap_or_default();
                    scanner.feed(new).map_err(Broke::Overrun)?;
                    *followed = pending.len();
                    scanner.replies() > 0 || scanner.is_lost()
                }
            };
            if whole {
                match resp::parse(pending) {
                    Ok(Some(r)) => {
                        self.scan = None;
                        let start = self.at;
                        self.at += r.len;
                        return Ok((r.kind, &self.buf[start..self.at]));
                    }
                    Ok(None) if self.scan.is_none() => {
                        let mut scanner = Scanner::default();
                        scanner.feed(pending).map_err(Broke::Overrun)?;
                        self.scan = Some((pending.len(), scanner));
                    }
                    Ok(None) => {}
                    Err(e) => return Err(Broke::NotResp(e)),
                }
            }
            if pending.len() > most {
                return Err(Broke::TooLong(most));
            }
            self.fill().await?;
        }
    }

    /// Reads what the socket has into the buffer, making room first: the replies already
    /// handed over are dropped, 64 KiB more is reserved when less than 4 KiB is free.
    async fn fill(&mut self) -> Result<(), Broke> {
        if self.at == self.buf.len() {
            self.discard();
        } else if self.at > 0 && self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.drain(..self.at);
            self.at = 0;
        }
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(64 * 1024);
        }
        match self.socket.read_buf(&mut self.buf).await {
            Ok(0) => Err(Broke::Closed),
            Ok(_) => Ok(()),
            Err(e) => Err(Broke::Io(describe_tls_io(&e))),
        }
    }

    /// Forgets whatever was read and not handed over.
    fn discard(&mut self) {
        self.buf.clear();
        self.at = 0;
        self.scan = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_parts() {
        let a = Answer::parse(b"$3\r\nabc\r\n:1\r\n").unwrap();
        assert_eq!(
            (a.kind(), a.bulk(), a.raw()),
            (Kind::Bulk, Some(&b"abc"[..]), &b"$3\r\nabc\r\n"[..])
        );
        assert!(Answer::parse(b"+PONG\r\n").unwrap().is_status("PONG"));
        assert_eq!(Answer::parse(b"$0\r\n\r\n").unwrap().bulk(), Some(&b""[..]));
        assert_eq!(Answer::parse(b"$-1\r\n").unwrap().bulk(), None);
        assert!(Answer::parse(b"$3\r\nab").is_none());
    }

    #[test]
    fn secrets_are_hidden_in_what_an_echo_sent_back() {
        let f = Failed {
            command: "AUTH".into(),
            broke: Broke::Closed,
            got: b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n".to_vec(),
            sent: b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n".to_vec(),
        }
        .hiding(b"pw");
        assert_eq!(f.got, b"*2\r\n$4\r\nAUTH\r\n$2\r\n***\r\n");
        assert_eq!(f.got, f.sent);
    }
}
