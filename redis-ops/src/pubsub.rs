//! `redis-ops publish` and `redis-ops subscribe`.

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use futures::StreamExt;
use redis::AsyncTypedCommands;

use crate::connect::Redis;
use crate::error::{Error, describe, io};

/// Publishes `message` on `channel`; answers how many subscribers received it.
pub async fn publish(redis: &Redis, channel: &str, message: &[u8]) -> Result<usize, Error> {
    let mut conn = redis.conn().await?;
    conn.publish(channel, message)
        .await
        .map_err(|e| Error::Command {
            command: format!("PUBLISH {channel}"),
            reason: describe(&e),
        })
}

/// How `subscribe` listens.
#[derive(Debug, Clone, Default)]
pub struct Listen {
    /// The names to listen on: channels, or glob patterns with `patterns`.
    pub channels: Vec<String>,
    /// PSUBSCRIBE instead of SUBSCRIBE.
    pub patterns: bool,
    /// Stop after this many messages.
    pub count: Option<usize>,
    /// Stop after this long: an error when `count` messages have not arrived by then, a
    /// normal end without `count`.
    pub timeout: Option<Duration>,
}

/// Subscribes, calls `ready` once the server confirmed, then writes `channel: message` lines
/// to `out` until `count` messages, the timeout, or `shutdown`. Answers how many messages
/// arrived.
pub async fn subscribe(
    redis: &Redis,
    listen: &Listen,
    out: &mut dyn Write,
    ready: impl FnOnce(),
    shutdown: impl Future,
) -> Result<usize, Error> {
    let mut sub = redis.pubsub().await?;
    let verb = if listen.patterns {
        "PSUBSCRIBE"
    } else {
        "SUBSCRIBE"
    };
    let confirmed = async {
        if listen.patterns {
            sub.psubscribe(&listen.channels).await
        } else {
            sub.subscribe(&listen.channels).await
        }
    };
    match tokio::time::timeout(redis.timeout(), confirmed).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return Err(Error::Command {
                command: format!("{verb} {}", listen.channels.join(" ")),
                reason: describe(&e),
            });
        }
        Err(_) => {
            return Err(Error::TimedOut {
                what: format!("{verb} {}", listen.channels.join(" ")),
                after: redis.timeout(),
            });
        }
    }
    ready();

    let wanted = listen.count.unwrap_or(usize::MAX);
    let mut got = 0;
    if wanted == 0 {
        return Ok(0);
    }
    let deadline = listen.timeout.map(|t| tokio::time::Instant::now() + t);
    let expired = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    let mut messages = sub.on_message();
    tokio::pin!(expired, shutdown);
    loop {
        tokio::select! {
            msg = messages.next() => {
                let Some(msg) = msg else {
                    return Err(Error::Command {
                        command: format!("{verb} {}", listen.channels.join(" ")),
                        reason: "the server closed the connection".into(),
                    });
                };
                let mut line = msg.get_channel_name().as_bytes().to_vec();
                line.extend_from_slice(b": ");
                line.extend_from_slice(msg.get_payload_bytes());
                line.push(b'\n');
                out.write_all(&line).and_then(|()| out.flush()).map_err(io("cannot write a message"))?;
                got += 1;
                if got >= wanted {
                    return Ok(got);
                }
            }
            () = &mut expired => {
                return match listen.count {
                    Some(n) => Err(Error::TimedOut {
                        what: format!("{got} of {n} messages received"),
                        after: listen.timeout.unwrap_or_default(),
                    }),
                    None => Ok(got),
                };
            }
            _ = &mut shutdown => {
                return match listen.count {
                    Some(n) => Err(Error::Interrupted(format!(
                        " after {got} of {n} messages"
                    ))),
                    None => Ok(got),
                };
            }
        }
    }
}
