//! `redis-ops publish` and `redis-ops subscribe`.

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use common::duration::duration;
use common::output::Out;
use futures_util::StreamExt;
use redis::AsyncTypedCommands;

use crate::connect::Redis;
use crate::error::{Error, describe};

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

/// What `subscribe` tells its caller on the way (the binary prints these on stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The server confirmed the subscription (the first time).
    Subscribed,
    /// The connection broke (the server went away): reconnecting.
    Lost(String),
    /// Connected and subscribed again after `attempts` tries; messages published while the
    /// connection was down were not received (pub/sub stores nothing).
    Resubscribed {
        /// Connection attempts it took.
        attempts: u32,
        /// How long the subscription was down.
        down: Duration,
    },
}

/// Subscribes, reports [`Event::Subscribed`] once the server confirmed, then writes
/// `channel: message` lines to `out` until `count` messages, the timeout, or `shutdown`.
/// When the connection breaks it reconnects ([`crate::connect::backoff`]) and subscribes again, for at most
/// `retry_for` each time; then it fails. A refusal while reconnecting (a wrong password, a peer
/// that is not Redis, a refused SUBSCRIBE: [`Error::is_permanent`]) fails at once with that
/// error. Answers how many messages arrived. A closed `out` ends
/// it with [`Error::Print`].
pub async fn subscribe<W: Write>(
    redis: &Redis,
    listen: &Listen,
    out: &mut Out<W>,
    mut notify: impl FnMut(Event),
    retry_for: Duration,
    shutdown: impl Future,
) -> Result<usize, Error> {
    let verb = if listen.patterns {
        "PSUBSCRIBE"
    } else {
        "SUBSCRIBE"
    };
    let what = || format!("{verb} {}", listen.channels.join(" "));
    let mut sub = subscribed(redis, listen, &what).await.map_err(|(e, _)| e)?;
    notify(Event::Subscribed);

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
    tokio::pin!(expired, shutdown);
    let end = |got: usize, interrupted: bool| match (listen.count, interrupted) {
        (Some(n), false) => Err(Error::TimedOut {
            what: format!("{got} of {n} messages received"),
            after: listen.timeout.unwrap_or_default(),
        }),
        (Some(n), true) => Err(Error::Interrupted(format!(" after {got} of {n} messages"))),
        (None, _) => Ok(got),
    };
    loop {
        let lost = {
            let mut messages = sub.on_message();
            loop {
                tokio::select! {
                    msg = messages.next() => {
                        let Some(msg) = msg else { break };
                        let mut line = msg.get_channel_name().as_bytes().to_vec();
                        line.extend_from_slice(b": ");
                        line.extend_from_slice(msg.get_payload_bytes());
                        line.push(b'\n');
                        out.bytes(&line)?;
                        out.flush()?;
                        got += 1;
                        if got >= wanted {
                            return Ok(got);
                        }
                    }
                    () = &mut expired => return end(got, false),
                    _ = &mut shutdown => return end(got, true),
                }
            }
            "the server closed the connection".to_owned()
        };
        notify(Event::Lost(lost.clone()));
        let down_since = tokio::time::Instant::now();
        let give_up = down_since + retry_for;
        let mut attempts = 0;
        let mut backoff = crate::connect::backoff();
        let mut last = String::from("no attempt in time");
        sub = loop {
            // --retry-for is the whole outage's bound: no wait, and no attempt, past it.
            let Some(delay) = backoff.next_delay_until(give_up.into_std()) else {
                return Err(Error::Command {
                    command: what(),
                    reason: format!(
                        "{lost}; gave up reconnecting after {attempts} attempts in {} ({last}); {got} message(s) received",
                        duration(down_since.elapsed())
                    ),
                });
            };
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = &mut expired => return end(got, false),
                _ = &mut shutdown => return end(got, true),
            }
            attempts += 1;
            let left = give_up.saturating_duration_since(tokio::time::Instant::now());
            let again = tokio::select! {
                r = tokio::time::timeout(left, subscribed(redis, listen, &what)) => {
                    r.unwrap_or_else(|_| Err((Error::TimedOut { what: what(), after: left }, false)))
                }
                () = &mut expired => return end(got, false),
                _ = &mut shutdown => return end(got, true),
            };
            match again {
                Ok(s) => break s,
                // A refusal (a wrong password, a peer that is not Redis, a refused SUBSCRIBE)
                // is not a lost connection: it ends the run at once, named as it is.
                Err((e, true)) => return Err(e),
                Err((e, false)) => {
                    tracing::debug!("resubscribe attempt {attempts} failed: {e}");
                    last = e.to_string();
                }
            }
        };
        notify(Event::Resubscribed {
            attempts,
            down: down_since.elapsed(),
        });
    }
}

/// A new subscriber connection, subscribed and confirmed within the timeout. A failure says
/// whether it is permanent ([`Error::is_permanent`]).
async fn subscribed(
    redis: &Redis,
    listen: &Listen,
    what: &dyn Fn() -> String,
) -> Result<redis::aio::PubSub, (Error, bool)> {
    let mut sub = redis.pubsub_raw().await.map_err(|(error, cause)| {
        let permanent = error.is_permanent(cause.as_ref());
        (error, permanent)
    })?;
    let confirmed = async {
        if listen.patterns {
            sub.psubscribe(&listen.channels).await
        } else {
            sub.subscribe(&listen.channels).await
        }
    };
    match tokio::time::timeout(redis.timeout(), confirmed).await {
        Ok(Ok(())) => Ok(sub),
        Ok(Err(e)) => {
            let error = Error::Command {
                command: what(),
                reason: describe(&e),
            };
            let permanent = error.is_permanent(Some(&e));
            Err((error, permanent))
        }
        Err(_) => Err((
            Error::TimedOut {
                what: what(),
                after: redis.timeout(),
            },
            false,
        )),
    }
}
