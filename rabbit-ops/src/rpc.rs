//! Tutorial 6, "RPC": the client publishes a request to `rpc_queue` with `reply_to` (its own
//! exclusive, server-named callback queue) and a fresh `correlation_id`; the server (prefetch 1)
//! computes fib(n), publishes the answer to `reply_to` with the same `correlation_id`, then
//! acknowledges the request. The client matches answers to requests by correlation id and
//! ignores any other.
//!
//! Unlike the tutorial, the server computes fib iteratively and answers `error: ...` for a
//! request it cannot serve (negative, not a number, too large) instead of crashing.

use std::collections::HashSet;
use std::io::Write;
use std::time::{Duration, Instant};

use amiquip::{AmqpProperties, ConsumerMessage, ConsumerOptions, Exchange, Publish};
use common::output::Out;
use crossbeam_channel::{at, select};
use tracing::{debug, warn};

use crate::broker::{Broker, exclusive_queue};
use crate::consume::{Ended, Flow, Limits, consume};
use crate::error::Error;
use crate::queues::{self, Declared, Generation};
use crate::stop::Stop;

/// The tutorial's queue.
pub const QUEUE: &str = "rpc_queue";
/// The largest n whose Fibonacci number fits in 128 bits.
pub const MAX_N: u32 = 186;
/// How an error answer starts.
pub const ERROR_PREFIX: &str = "error: ";

/// Fibonacci, iteratively: fib(0) = 0, fib(1) = 1; `None` above [`MAX_N`].
pub fn fib(n: u32) -> Option<u128> {
    if n > MAX_N {
        return None;
    }
    if n == 0 {
        return Some(0);
    }
    let (mut a, mut b) = (0u128, 1u128);
    for _ in 1..n {
        (a, b) = (b, a.checked_add(b)?);
    }
    Some(b)
}

/// The server's answer to a request body: fib(n), or why not.
pub fn answer(request: &str) -> Result<u128, String> {
    let s = request.trim();
    let digits = s.strip_prefix('+').unwrap_or(s);
    if let Some(rest) = s.strip_prefix('-')
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("n must not be negative (got {s})"));
    }
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{s}' is not a whole number"));
    }
    let too_large = || format!("fib({s}) does not fit in 128 bits: n must be at most {MAX_N}");
    let n: u32 = digits.parse().map_err(|_| too_large())?;
    fib(n).ok_or_else(too_large)
}

/// `rpc-server`: answers requests on `queue` until the limits or Ctrl-C.
pub fn server(
    broker: &Broker,
    queue: &str,
    generation: Generation,
    limits: Limits,
    stop: &Stop,
    out: &mut Out<impl Write>,
) -> Result<Ended, Error> {
    let session = broker.session()?;
    session.prefetch(1)?;
    let ended = {
        let channel = &session.channel;
        let q = queues::declare(channel, queue, Declared::transient_classic(generation))?;
        let consumer = q
            .consume(ConsumerOptions::default())
            .map_err(|e| Error::amqp(format!("consuming from queue '{queue}'"), e))?;
        let replies = Exchange::direct(channel);
        out.line(format_args!(" [x] Awaiting RPC requests"))?;
        consume(consumer, queue, limits, stop, |consumer, delivery| {
            let body = String::from_utf8_lossy(&delivery.body).trim().to_owned();
            out.line(format_args!(" [.] fib({body})"))?;
            let reply = match answer(&body) {
                Ok(v) => v.to_string(),
                Err(why) => {
                    warn!("refused fib({body}): {why}");
                    format!("{ERROR_PREFIX}{why}")
                }
            };
            if let Some(reply_to) = delivery.properties.reply_to() {
                let mut properties = AmqpProperties::default();
                if let Some(id) = delivery.properties.correlation_id() {
                    properties = properties.with_correlation_id(id.clone());
                }
                replies
                    .publish(Publish::with_properties(
                        reply.as_bytes(),
                        reply_to.clone(),
                        properties,
                    ))
                    .map_err(|e| Error::amqp(format!("answering to '{reply_to}'"), e))?;
            } else {
                warn!("request fib({body}) has no reply_to: nobody to answer");
            }
            consumer
                .ack(delivery)
                .map_err(|e| Error::amqp("acknowledging a request", e))?;
            Ok(Flow::Continue)
        })?
    };
    session.close()?;
    Ok(ended)
}

/// A correlation id nobody else will use.
fn correlation_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// `rpc-client`: sends `concurrency` requests fib(`n`) at once on one connection, prints
/// ` [x] Requesting fib(n)` for each and ` [.] Got ...` for each answer, and returns the
/// answers. `n` is sent as given, so that a bad one reaches the server.
pub fn client(
    broker: &Broker,
    queue: &str,
    n: &str,
    concurrency: usize,
    timeout: Duration,
    out: &mut Out<impl Write>,
) -> Result<Vec<u128>, Error> {
    let session = broker.session()?;
    let channel = &session.channel;
    let (answers, refused) = {
        let callback = exclusive_queue(channel)?;
        let returns = channel
            .listen_for_returns()
            .map_err(|e| Error::amqp("listening for returned messages", e))?;
        let consumer = callback
            .consume(ConsumerOptions {
                no_ack: true,
                ..ConsumerOptions::default()
            })
            .map_err(|e| Error::amqp("consuming answers", e))?;
        let exchange = Exchange::direct(channel);
        let mut pending = HashSet::new();
        for _ in 0..concurrency {
            let id = correlation_id();
            let properties = AmqpProperties::default()
                .with_reply_to(callback.name().to_owned())
                .with_correlation_id(id.clone());
            exchange
                .publish(Publish {
                    body: n.as_bytes(),
                    routing_key: queue.to_owned(),
                    mandatory: true,
                    immediate: false,
                    properties,
                })
                .map_err(|e| Error::amqp(format!("publishing to queue '{queue}'"), e))?;
            out.line(format_args!(" [x] Requesting fib({n})"))?;
            pending.insert(id);
        }
        let deadline = Instant::now() + timeout;
        let mut answers = Vec::with_capacity(concurrency);
        let mut refused = None;
        while !pending.is_empty() {
            select! {
                recv(consumer.receiver()) -> message => match message {
                    Ok(ConsumerMessage::Delivery(d)) => {
                        let id = d.properties.correlation_id().clone().unwrap_or_default();
                        let body = String::from_utf8_lossy(&d.body).into_owned();
                        if !pending.remove(&id) {
                            debug!("ignoring an answer with correlation id '{id}': {body}");
                        } else if let Ok(v) = body.trim().parse::<u128>() {
                            out.line(format_args!(" [.] Got {v}"))?;
                            answers.push(v);
                        } else {
                            let why = body.strip_prefix(ERROR_PREFIX).unwrap_or(&body);
                            refused.get_or_insert_with(|| why.to_owned());
                        }
                    }
                    Ok(ConsumerMessage::ServerClosedChannel(e)
                        | ConsumerMessage::ServerClosedConnection(e)) => {
                        return Err(Error::amqp("waiting for answers", e));
                    }
                    Ok(_) | Err(_) => return Err(Error::ConnectionLost),
                },
                recv(returns) -> returned => {
                    if returned.is_ok() {
                        return Err(Error::RpcUnroutable { queue: queue.to_owned() });
                    }
                    return Err(Error::ConnectionLost);
                }
                recv(at(deadline)) -> _ => {
                    return Err(Error::RpcTimeout {
                        n: n.to_owned(),
                        queue: queue.to_owned(),
                        waited: timeout,
                    });
                }
            }
        }
        crate::consume::cancel(consumer)?;
        (answers, refused)
    };
    session.close()?;
    match refused {
        Some(reason) => Err(Error::RpcRefused {
            n: n.to_owned(),
            reason,
        }),
        None => Ok(answers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn small_fibs() {
        let first: Vec<u128> = (0..10).map(|n| fib(n).unwrap()).collect();
        assert_eq!(first, [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]);
        assert_eq!(fib(30), Some(832_040));
        assert_eq!(
            fib(MAX_N),
            Some(332_825_110_087_067_562_321_196_029_789_634_457_848)
        );
        assert_eq!(fib(MAX_N + 1), None);
    }

    #[test]
    fn answers() {
        assert_eq!(answer("30"), Ok(832_040));
        assert_eq!(answer(" 30\n"), Ok(832_040));
        assert_eq!(answer("-1"), Err("n must not be negative (got -1)".into()));
        assert_eq!(answer("abc"), Err("'abc' is not a whole number".into()));
        assert_eq!(answer(""), Err("'' is not a whole number".into()));
        assert_eq!(answer("3.5"), Err("'3.5' is not a whole number".into()));
        assert_eq!(
            answer("187"),
            Err("fib(187) does not fit in 128 bits: n must be at most 186".into())
        );
        assert_eq!(
            answer("99999999999999999999"),
            Err("fib(99999999999999999999) does not fit in 128 bits: n must be at most 186".into())
        );
    }

    proptest! {
        #[test]
        fn recurrence_holds(n in 0u32..=MAX_N - 2) {
            prop_assert_eq!(fib(n + 2).unwrap(), fib(n + 1).unwrap() + fib(n).unwrap());
        }

        #[test]
        fn any_request_gets_an_answer(s in "\\PC{0,24}") {
            let _ = answer(&s);
        }
    }
}
