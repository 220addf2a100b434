//! One connection of a check: a TCP stream speaking RESP2, every exchange bounded by the
//! attempt's deadline, and every answer that is not what a Redis server says put in words
//! ([`Refusal`]: not ready yet, or a permanent no).

use std::time::Duration;

use crate::stream::{self, Stream};
use common::duration::duration;
use common::probe::Refusal;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::reply::quote;
use crate::resp::{self, Kind};

/// The longest reply a check reads (INFO is a few kB, CLUSTER SLOTS of a large cluster some
/// hundred): a peer sending more is not the Redis we expect.
const MAX_REPLY: usize = 4 << 20;

/// One reply, whole.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    kind: Kind,
    raw: Vec<u8>,
}

impl Answer {
    /// The text of a status or error reply.
    pub(super) fn text(&self) -> String {
        resp::line_text(&self.raw)
    }

    /// The payload of a bulk string (`None` for any other reply).
    pub(super) fn bulk(&self) -> Option<&[u8]> {
        if self.kind != Kind::Bulk {
            return None;
        }
        let start = self.raw.iter().position(|&b| b == b'\n')? + 1;
        self.raw.get(start..self.raw.len() - 2)
    }

    /// The reply as the redis crate reads it (for arrays: CLUSTER SLOTS).
    pub(super) fn value(&self) -> Option<redis::Value> {
        redis::parse_redis_value(&self.raw).ok()
    }

    /// Is it the status reply `+<status>`?
    pub(super) fn is_status(&self, status: &str) -> bool {
        self.kind == Kind::Status && self.text() == status
    }

    /// Is it an error reply?
    pub(super) fn is_error(&self) -> bool {
        self.kind == Kind::Error
    }

    /// The reply as it came, quoted and cut short, for a message.
    pub(super) fn shown(&self) -> String {
        shown(&self.raw)
    }
}

/// A connection to one server, with the deadline of the attempt.
pub(super) struct Link {
    stream: Stream,
    buf: Vec<u8>,
    sent: Vec<u8>,
    deadline: Instant,
    timeout: Duration,
}

impl Link {
    /// Connects to `host:port` before `deadline` (the attempt's start plus `timeout`).
    pub(super) async fn open(
        host: &str,
        port: u16,
        tls: Option<&tokio_rustls::TlsConnector>,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Self, Refusal> {
        let connect = stream::connect(host, port, tls);
        let stream = match tokio::time::timeout_at(deadline, connect).await {
            Err(_) => {
                let hint = if tls.is_some() {
                    " (rediss://: does the server speak TLS on this port?)"
                } else {
                    ""
                };
                return Err(Refusal::not_ready(format!(
                    "no connection within {}{hint}",
                    duration(timeout)
                )));
            }
            Ok(Err(why)) => return Err(Refusal::not_ready(why)),
            Ok(Ok(s)) => s,
        };
        Ok(Self {
            stream,
            buf: Vec::with_capacity(1024),
            sent: Vec::new(),
            deadline,
            timeout,
        })
    }

    /// Sends one command and reads its reply. A reply that is not RESP, or a connection that
    /// breaks or stays silent, is a [`Refusal`] naming the command.
    pub(super) async fn call(&mut self, args: &[&[u8]]) -> Result<Answer, Refusal> {
        let name = String::from_utf8_lossy(args[0]).into_owned();
        let mut request = std::mem::take(&mut self.sent);
        request.clear();
        resp::encode(&mut request, args);
        let (timeout, deadline) = (self.timeout, self.deadline);
        let silent =
            || Refusal::not_ready(format!("no answer to {name} within {}", duration(timeout)));
        let answer = tokio::time::timeout_at(deadline, self.exchange(&request, &name)).await;
        self.sent = request;
        match answer {
            Ok(answer) => answer,
            Err(_) if self.buf.is_empty() => Err(silent()),
            // Something came, never a whole reply: what came is the clue.
            Err(_) => Err(Refusal::failed(format!(
                "not Redis: the answer to {name} was {}, cut short",
                shown(&self.buf)
            ))),
        }
    }

    async fn exchange(&mut self, request: &[u8], name: &str) -> Result<Answer, Refusal> {
        self.buf.clear();
        self.stream
            .write_all(request)
            .await
            .map_err(|e| Refusal::not_ready(format!("{name}: {}", stream::describe_tls_io(&e))))?;
        loop {
            // The strict parser waits for a line's end before it looks at the type byte; a
            // stranger's banner may never send one.
            if self.buf.first().is_some_and(|b| !b"+-:$*".contains(b)) {
                return Err(not_redis(name, &self.buf, request));
            }
            match resp::parse(&self.buf) {
                Ok(Some(r)) => {
                    let raw = self.buf[..r.len].to_vec();
                    self.buf.drain(..r.len);
                    return Ok(Answer { kind: r.kind, raw });
                }
                Ok(None) if self.buf.len() > MAX_REPLY => {
                    return Err(Refusal::failed(format!(
                        "not Redis: the answer to {name} is longer than {} MiB",
                        MAX_REPLY >> 20
                    )));
                }
                Ok(None) => {}
                Err(_) => return Err(not_redis(name, &self.buf, request)),
            }
            let n = match self.stream.read_buf(&mut self.buf).await {
                Ok(n) => n,
                Err(_) if !self.buf.is_empty() => return Err(not_redis(name, &self.buf, request)),
                Err(e) => {
                    return Err(Refusal::not_ready(format!(
                        "{name}: {}",
                        stream::describe_tls_io(&e)
                    )));
                }
            };
            if n == 0 {
                return Err(if self.buf.is_empty() {
                    Refusal::not_ready(format!("the server closed the connection at {name}"))
                } else {
                    not_redis(name, &self.buf, request)
                });
            }
        }
    }
}

impl Link {
    /// The refusal for a well-formed reply to `name` that a Redis server would not give (an
    /// echo of the command, a banner that happens to look like RESP).
    pub(super) fn unexpected(&self, name: &str, answer: &Answer) -> Refusal {
        not_redis(name, &answer.raw, &self.sent)
    }
}

/// The refusal for a peer that answered something other than RESP.
fn not_redis(name: &str, got: &[u8], sent: &[u8]) -> Refusal {
    let what = if got.starts_with(sent) {
        " (it echoes what it is sent)"
    } else if got.starts_with(b"AMQP") {
        " (an AMQP broker, RabbitMQ?)"
    } else if got.starts_with(b"HTTP/") {
        " (an HTTP server)"
    } else if got.starts_with(b"SSH-") {
        " (an SSH server)"
    } else {
        ""
    };
    Refusal::failed(format!(
        "not Redis: the answer to {name} was {}{what}",
        shown(got)
    ))
}

/// The refusal for a server's error reply to `name`: some say "not ready yet"
/// ([`crate::error::not_ready_yet`]: LOADING, BUSY, MASTERDOWN, CLUSTERDOWN, TRYAGAIN), the
/// others are a permanent no, in words.
pub(super) fn server_error(name: &str, answer: &Answer) -> Refusal {
    let text = answer.text();
    let code = text.split(' ').next().unwrap_or_default();
    match code {
        "LOADING" => Refusal::not_ready(format!("still loading its data ({text})")),
        _ if crate::error::not_ready_yet(code) => Refusal::not_ready(format!("{name}: {text}")),
        "NOAUTH" => Refusal::failed(format!("the server needs a password ({text})")),
        "WRONGPASS" => Refusal::failed(format!("wrong password or user name ({text})")),
        "MOVED" | "ASK" => Refusal::failed(format!(
            "{name}: {text}: a Redis Cluster node (check the cluster with --cluster)"
        )),
        "READONLY" => Refusal::failed(format!("a read-only replica ({text}): point at a master")),
        _ if text.contains("invalid password") => {
            Refusal::failed(format!("wrong password ({text})"))
        }
        _ => Refusal::failed(format!("{name}: {text}")),
    }
}

/// At most 40 bytes of `raw`, quoted redis-cli style.
fn shown(raw: &[u8]) -> String {
    let cut = &raw[..raw.len().min(40)];
    let mut s = quote(cut);
    if cut.len() < raw.len() {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(raw: &[u8]) -> Answer {
        let r = resp::parse(raw).unwrap().unwrap();
        Answer {
            kind: r.kind,
            raw: raw.to_vec(),
        }
    }

    #[test]
    fn answers_and_their_words() {
        assert!(answer(b"+PONG\r\n").is_status("PONG"));
        assert_eq!(answer(b"$3\r\nabc\r\n").bulk(), Some(&b"abc"[..]));
        assert_eq!(answer(b"$0\r\n\r\n").bulk(), Some(&b""[..]));
        assert_eq!(answer(b"$-1\r\n").bulk(), None);
        let loading = server_error(
            "SET",
            &answer(b"-LOADING Redis is loading the dataset in memory\r\n"),
        );
        assert!(loading.not_ready);
        assert_eq!(
            loading.reason,
            "still loading its data (LOADING Redis is loading the dataset in memory)"
        );
        let wrong = server_error(
            "AUTH",
            &answer(b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
        );
        assert!(!wrong.not_ready);
        assert!(
            wrong.reason.starts_with("wrong password"),
            "{}",
            wrong.reason
        );
    }

    #[test]
    fn what_a_stranger_said() {
        let ping = b"*1\r\n$4\r\nPING\r\n";
        assert_eq!(
            not_redis("PING", b"AMQP\x00\x00\x09\x01", ping).reason,
            r#"not Redis: the answer to PING was "AMQP\x00\x00\t\x01" (an AMQP broker, RabbitMQ?)"#
        );
        assert!(
            not_redis("PING", ping, ping)
                .reason
                .ends_with("(it echoes what it is sent)")
        );
        assert_eq!(shown(&[b'x'; 50]).len(), 2 + 40 + 3);
    }
}
