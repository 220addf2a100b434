//! One connection of a check: a [`Link`] said hello to with PING, every exchange bounded by the
//! attempt's deadline, and every way it can fail, every answer that is not what a Redis server
//! says, put in words ([`Refusal`]: not ready yet, or a permanent no).

use std::time::Duration;

use common::duration::duration;
use common::probe::Refusal;
use tokio::time::Instant;

use crate::link::{Answer, Broke, Endpoint, Failed, Hello, Link, LinkError, MAX_REPLY};
use crate::reply::quote;

/// A link of a check, with the attempt's deadline.
pub(super) struct Session {
    link: Link,
    deadline: Instant,
    timeout: Duration,
}

impl Session {
    /// Connects to `to` and says hello (AUTH, PING, SELECT) before `deadline` (the attempt's
    /// start plus `timeout`).
    pub(super) async fn open(
        to: &Endpoint,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Self, Refusal> {
        let mut session = Self::connect(to, deadline, timeout).await?;
        session.hello(to).await?;
        Ok(session)
    }

    /// Connects to `to` before `deadline`; nothing said yet.
    pub(super) async fn connect(
        to: &Endpoint,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Self, Refusal> {
        match Link::connect(to, deadline).await {
            Ok(link) => Ok(Self {
                link,
                deadline,
                timeout,
            }),
            Err(LinkError::Connect { why, tls_refused }) => {
                Err(Refusal::unreached(why, tls_refused))
            }
            Err(LinkError::Hello(f)) => Err(failed(f, timeout)),
            Err(LinkError::WrongScheme(why)) => Err(Refusal::failed(why)),
            Err(LinkError::NoConnection) => {
                let hint = if to.tls.is_some() {
                    " (rediss://: does the server speak TLS on this port?)"
                } else {
                    ""
                };
                Err(Refusal::not_ready(format!(
                    "no connection within {}{hint}",
                    duration(timeout)
                )))
            }
        }
    }

    /// AUTH as `to` says, PING, and SELECT its database.
    pub(super) async fn hello(&mut self, to: &Endpoint) -> Result<(), Refusal> {
        self.link
            .hello(to, Hello::AuthPing, self.deadline)
            .await
            .map_err(|f| failed(f, self.timeout))
    }

    /// Sends one command and reads its reply. A reply that is not RESP, or a connection that
    /// breaks or stays silent, is a [`Refusal`] naming the command.
    pub(super) async fn call(&mut self, args: &[&[u8]]) -> Result<Answer, Refusal> {
        self.link
            .call(args, self.deadline)
            .await
            .map_err(|f| failed(f, self.timeout))
    }

    /// The refusal for a well-formed reply to `name` that a Redis server would not give (an
    /// echo of the command, a banner that happens to look like RESP).
    pub(super) fn unexpected(&self, name: &str, answer: &Answer) -> Refusal {
        not_redis(name, answer.raw(), self.link.last_sent())
    }

    /// An answer other than the one expected: the server's error in words, or "not Redis".
    pub(super) fn refused(&self, name: &str, answer: &Answer) -> Refusal {
        if answer.is_error() {
            server_error(name, answer)
        } else {
            self.unexpected(name, answer)
        }
    }
}

/// The refusal for a command whose exchange failed: silence, a broken or closed connection are
/// "not ready yet"; bytes that are not what Redis says, "not Redis".
fn failed(f: Failed, timeout: Duration) -> Refusal {
    let name = &f.command;
    match f.broke {
        Broke::Silent if f.got.is_empty() => {
            Refusal::not_ready(format!("no answer to {name} within {}", duration(timeout)))
        }
        // Something came, never a whole reply: what came is the clue.
        Broke::Silent => Refusal::failed(format!(
            "not Redis: the answer to {name} was {}, cut short",
            shown(&f.got)
        )),
        Broke::Io(why) if f.got.is_empty() => Refusal::not_ready(format!("{name}: {why}")),
        Broke::Closed if f.got.is_empty() => {
            Refusal::not_ready(format!("the server closed the connection at {name}"))
        }
        Broke::TooLong(_) => Refusal::failed(format!(
            "not Redis: the answer to {name} is longer than {} MiB",
            MAX_REPLY >> 20
        )),
        Broke::WrongScheme(why) => Refusal::failed(why),
        Broke::Overrun(o) => Refusal::failed(format!("not Redis: the answer to {name}: {o}")),
        Broke::Unexpected(answer) if answer.is_error() => server_error(name, &answer),
        Broke::Unexpected(answer) => not_redis(name, answer.raw(), &f.sent),
        Broke::Io(_) | Broke::Closed | Broke::NotResp(_) | Broke::TooMany => {
            not_redis(name, &f.got, &f.sent)
        }
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
pub(super) fn shown(raw: &[u8]) -> String {
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
        Answer::parse(raw).unwrap()
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

    #[test]
    fn how_an_exchange_broke_in_words() {
        let f = |broke, got: &[u8]| Failed {
            command: "PING".into(),
            broke,
            got: got.to_vec(),
            sent: b"*1\r\n$4\r\nPING\r\n".to_vec(),
        };
        let second = Duration::from_secs(1);
        let silent = failed(f(Broke::Silent, b""), second);
        assert!(silent.not_ready);
        assert_eq!(silent.reason, "no answer to PING within 1.0 s");
        assert_eq!(
            failed(f(Broke::Silent, b"+PO"), second).reason,
            r#"not Redis: the answer to PING was "+PO", cut short"#
        );
        assert_eq!(
            failed(f(Broke::Closed, b""), second).reason,
            "the server closed the connection at PING"
        );
        let closed_after_a_banner = failed(f(Broke::Closed, b"SSH-2.0"), second);
        assert!(!closed_after_a_banner.not_ready);
        assert!(closed_after_a_banner.reason.ends_with("(an SSH server)"));
    }
}
