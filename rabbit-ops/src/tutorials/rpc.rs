//! Tutorial 6, "RPC": the client publishes a request to `rpc_queue` with `reply_to` (its own
//! exclusive, server-named callback queue) and a fresh `correlation_id`; the server (prefetch 1)
//! computes fib(n), publishes the answer to `reply_to` with the same `correlation_id`, then
//! acknowledges the request. The client matches answers to requests by correlation id and
//! ignores any other.
//!
//! Unlike the tutorial, the server computes fib iteratively, in arbitrary precision, up to
//! [`MAX_N`], and answers `error: ...` for a request it cannot serve (negative, not a number,
//! over [`MAX_N`]) instead of crashing. The client prints any integer answer; an answer that is
//! neither an integer nor an `error: ...` is one it cannot read ([`Error::RpcUnreadable`]).

use std::collections::HashSet;
use std::io::Write;
use std::time::{Duration, Instant};

use amiquip::{AmqpProperties, ConsumerMessage, ConsumerOptions, Exchange, Publish};
use common::output::Out;
use crossbeam_channel::{at, select};
use tracing::{debug, warn};

use crate::broker::{Broker, exclusive_queue};
use crate::consume::{Consuming, Ended, Flow, consume};
use crate::error::Error;
use crate::queues::{self, Declared, Named};
use crate::stop::Stop;

/// The tutorial's queue.
pub const QUEUE: &str = "rpc_queue";
/// The largest n the server computes: fib(20000) has 4,180 digits and takes about a
/// millisecond, and stays under the 4,300 digits Python's `int()` reads by default, so the
/// official `rpc_client.py` can read every answer.
pub const MAX_N: u32 = 20_000;
/// How an error answer starts.
pub const ERROR_PREFIX: &str = "error: ";

/// A natural number in base 10^18 limbs (least significant first): all fib needs is addition
/// and printing in decimal, so no big-integer crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Natural(Vec<u64>);

const LIMB: u64 = 1_000_000_000_000_000_000;

impl Natural {
    fn small(n: u64) -> Self {
        debug_assert!(n < LIMB);
        Self(vec![n])
    }

    /// `self += other`.
    fn add(&mut self, other: &Natural) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        let mut carry = 0;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let sum = *limb + other.0.get(i).copied().unwrap_or(0) + carry;
            (*limb, carry) = if sum >= LIMB {
                (sum - LIMB, 1)
            } else {
                (sum, 0)
            };
        }
        if carry > 0 {
            self.0.push(carry);
        }
    }
}

impl std::fmt::Display for Natural {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut limbs = self.0.iter().rev();
        write!(f, "{}", limbs.next().copied().unwrap_or(0))?;
        for limb in limbs {
            write!(f, "{limb:018}")?;
        }
        Ok(())
    }
}

/// Fibonacci, iteratively, in arbitrary precision: fib(0) = 0, fib(1) = 1; `None` above
/// [`MAX_N`].
pub fn fib(n: u32) -> Option<Natural> {
    if n > MAX_N {
        return None;
    }
    let (mut a, mut b) = (Natural::small(0), Natural::small(1));
    for _ in 0..n {
        a.add(&b);
        std::mem::swap(&mut a, &mut b);
    }
    Some(a)
}

/// The server's answer to a request body: fib(n) in decimal, or why not.
pub fn answer(request: &str) -> Result<String, String> {
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
    let too_large = || format!("fib({s}) is not computed here: n must be at most {MAX_N}");
    let n: u32 = digits.parse().map_err(|_| too_large())?;
    fib(n).map(|v| v.to_string()).ok_or_else(too_large)
}

/// An answer read as an integer, as Python's `int()` reads it (spaces around, a sign, leading
/// zeros, `_` between digits): its decimal digits, normalised; `None` if it is not one.
pub fn integer(answer: &str) -> Option<String> {
    let s = answer.trim();
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let ok = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__");
    if !ok {
        return None;
    }
    let plain: String = digits.chars().filter(|&c| c != '_').collect();
    let trimmed = plain.trim_start_matches('0');
    Some(match (negative, trimmed) {
        (_, "") => "0".to_owned(),
        (true, t) => format!("-{t}"),
        (false, t) => t.to_owned(),
    })
}

/// `rpc-server`: answers requests on `queue` until the limits or Ctrl-C.
pub fn server(
    run: Consuming<'_>,
    queue: &Named,
    out: &mut Out<impl Write>,
) -> Result<Ended, Error> {
    let Named {
        name: queue,
        generation,
    } = queue;
    let session = run.broker.session()?;
    let ended = {
        let channel = &session.channel;
        let consumer = session.within("setting up the consumer", || {
            session.prefetch(1)?;
            let q = queues::declare(channel, queue, Declared::transient_classic(*generation))?;
            q.consume(ConsumerOptions::default())
                .map_err(|e| Error::amqp(format!("consuming from queue '{queue}'"), e))
        })?;
        let replies = Exchange::direct(channel);
        out.line(format_args!(" [x] Awaiting RPC requests"))?;
        consume(
            consumer,
            queue,
            run.limits,
            run.stop,
            || session.reap(),
            |consumer, delivery| {
                let body = String::from_utf8_lossy(&delivery.body).trim().to_owned();
                out.line(format_args!(" [.] fib({body})"))?;
                let reply = match answer(&body) {
                    Ok(v) => v,
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
            },
        )?
    };
    session.close()?;
    Ok(ended)
}

/// The start of a text, for an error line (at most 60 characters).
fn start_of(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_owned(),
    }
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
    stop: &Stop,
    out: &mut Out<impl Write>,
) -> Result<Vec<String>, Error> {
    let session = broker.session()?;
    let channel = &session.channel;
    let (answers, refused, unreadable) = {
        let (callback, returns, consumer) = session.within("setting up the reply queue", || {
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
            Ok((callback, returns, consumer))
        })?;
        // An early return (timeout, signal, lost connection) reaps the connection first.
        let reaper = session.reaper();
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
        let mut unreadable = None;
        while !pending.is_empty() {
            select! {
                recv(consumer.receiver()) -> message => match message {
                    Ok(ConsumerMessage::Delivery(d)) => {
                        let id = d.properties.correlation_id().clone().unwrap_or_default();
                        let body = String::from_utf8_lossy(&d.body).into_owned();
                        if !pending.remove(&id) {
                            debug!("ignoring an answer with correlation id '{id}': {body}");
                        } else if let Some(v) = integer(&body) {
                            out.line(format_args!(" [.] Got {v}"))?;
                            answers.push(v);
                        } else if let Some(why) = body.strip_prefix(ERROR_PREFIX) {
                            refused.get_or_insert_with(|| why.to_owned());
                        } else {
                            unreadable.get_or_insert_with(|| start_of(&body));
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
                recv(stop.receiver()) -> _ => {
                    return Err(Error::Interrupted {
                        what: format!(
                            "rpc-client: {} of {concurrency} answers received",
                            answers.len()
                        ),
                    });
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
        session.within("cancelling the consumer", || {
            crate::consume::cancel(consumer)
        })?;
        reaper.disarm();
        (answers, refused, unreadable)
    };
    session.close()?;
    match (refused, unreadable) {
        (Some(reason), _) => Err(Error::RpcRefused {
            n: n.to_owned(),
            reason,
        }),
        (None, Some(answer)) => Err(Error::RpcUnreadable {
            n: n.to_owned(),
            answer,
        }),
        (None, None) => Ok(answers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fib_text(n: u32) -> String {
        fib(n).unwrap().to_string()
    }

    #[test]
    fn small_fibs() {
        let first: Vec<String> = (0..10).map(fib_text).collect();
        assert_eq!(first, ["0", "1", "1", "2", "3", "5", "8", "13", "21", "34"]);
        assert_eq!(fib_text(30), "832040");
        assert_eq!(fib_text(186), "332825110087067562321196029789634457848");
        assert_eq!(fib_text(187), "538522340430300790495419781092981030533");
        assert_eq!(fib_text(90), "2880067194370816120");
        assert_eq!(fib_text(91), "4660046610375530309");
        // 10^18 carries: the first fib over 10^18 and one with an inner zero limb.
        let big = fib_text(MAX_N);
        assert_eq!(big.len(), 4180);
        assert!(big.starts_with("25311623237323612422"), "{}", &big[..20]);
        assert!(big.ends_with("3125"), "{}", &big[big.len() - 4..]);
        assert!(fib(MAX_N + 1).is_none());
    }

    #[test]
    fn answers() {
        assert_eq!(answer("30"), Ok("832040".into()));
        assert_eq!(answer(" 30\n"), Ok("832040".into()));
        assert_eq!(answer("-1"), Err("n must not be negative (got -1)".into()));
        assert_eq!(answer("abc"), Err("'abc' is not a whole number".into()));
        assert_eq!(answer(""), Err("'' is not a whole number".into()));
        assert_eq!(answer("3.5"), Err("'3.5' is not a whole number".into()));
        assert_eq!(
            answer("187"),
            Ok("538522340430300790495419781092981030533".into())
        );
        assert_eq!(
            answer("20001"),
            Err("fib(20001) is not computed here: n must be at most 20000".into())
        );
        assert_eq!(
            answer("99999999999999999999"),
            Err("fib(99999999999999999999) is not computed here: n must be at most 20000".into())
        );
    }

    #[test]
    fn integers_as_python_reads_them() {
        assert_eq!(integer("832040").as_deref(), Some("832040"));
        assert_eq!(integer(" 007\n").as_deref(), Some("7"));
        assert_eq!(integer("-0").as_deref(), Some("0"));
        assert_eq!(integer("+1_000").as_deref(), Some("1000"));
        assert_eq!(integer("-12").as_deref(), Some("-12"));
        for bad in ["", "-", "1.5", "abc", "_1", "1__0", "error: x"] {
            assert_eq!(integer(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn recurrence_holds(n in 0u32..=300) {
            let mut sum = fib(n + 1).unwrap();
            sum.add(&fib(n).unwrap());
            prop_assert_eq!(fib(n + 2).unwrap(), sum);
        }

        #[test]
        fn any_request_gets_an_answer(s in "\\PC{0,24}") {
            let _ = answer(&s);
        }
    }
}
