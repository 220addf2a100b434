//! Stream tutorial 2, "Offset tracking" (`rust-stream/src/bin/send_offset_tracking.rs` and
//! `receive_offset_tracking.rs` of rabbitmq-tutorials).
//!
//! `offset-tracking-send` publishes 100 messages to the stream `stream-offset-tracking-rust`
//! (created if need be, retention 2 GB): `hello0` to `hello98`, then the marker `marker99`, and
//! waits until every one is confirmed.
//!
//! `offset-tracking-receive` is a named consumer (`consumer-1`): it asks the broker for the
//! offset it stored last and resumes right after it (from the first message when it stored
//! none), stores its offset every 10 messages (the 1st, 11th, 21st... of a run) and at the
//! marker, where it stops and prints `Done consuming first_offset: N last_offset: M`. Stopped
//! early (`--count`, Ctrl-C), it stores the offset of the last message it printed, so that the
//! next run resumes right after it. The stored offsets live in the stream itself, on the broker.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::output::Out;
use rabbitmq_stream_client::error::ClientError;
use rabbitmq_stream_client::types::{Message, OffsetSpecification, ResponseCode};
use tokio::sync::Notify;

use super::connect::{Endpoint, code_words, failed};
use super::consume::{Interrupt, body, deliveries};
use super::error::StreamError;
use crate::consume::{Ended, Flow, Limits};
use crate::error::Error;

/// The tutorial's stream.
pub const STREAM: &str = "stream-offset-tracking-rust";
/// Its retention: `max-length-bytes` 2 GB, as the tutorial creates it.
pub const RETENTION: u64 = 2_000_000_000;
/// The messages the tutorial sends.
pub const MESSAGES: u64 = 100;
/// The tutorial consumer's name: its stored offset is kept under it.
pub const CONSUMER: &str = "consumer-1";
/// Store the offset every this many messages.
pub const STORE_EVERY: u64 = 10;

/// The arguments the tutorial creates its stream with.
pub fn arguments() -> [(&'static str, String); 1] {
    [("max-length-bytes", RETENTION.to_string())]
}

/// The body of message `i` of `n`: `hello<i>`, the last one `marker<i>`.
pub fn message_body(i: u64, n: u64) -> String {
    if i + 1 < n {
        format!("hello{i}")
    } else {
        format!("marker{i}")
    }
}

/// Publishes `n` messages (the last one the marker) and waits for every confirm.
pub async fn send<W: Write>(
    endpoint: &Endpoint,
    stream: &str,
    n: u64,
    interrupt: &mut Interrupt,
    out: &mut Out<W>,
) -> Result<(), Error> {
    let connected = endpoint.ready(stream, &arguments()).await?;
    out.line(format_args!("Publishing {n} messages"))?;
    let producer = endpoint
        .producer(&connected.env, stream, n.min(100) as usize)
        .await?;
    let confirmed = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let first_refusal = Arc::new(std::sync::Mutex::new(None::<String>));
    let all = Arc::new(Notify::new());
    for i in 0..n {
        let (confirmed, refused, all) = (confirmed.clone(), refused.clone(), all.clone());
        let first_refusal = first_refusal.clone();
        let message = Message::builder().body(message_body(i, n)).build();
        let sent = producer
            .send(message, move |status| {
                let (confirmed, refused, all) = (confirmed.clone(), refused.clone(), all.clone());
                let first_refusal = first_refusal.clone();
                async move {
                    match status {
                        Ok(s) if s.confirmed() => {
                            confirmed.fetch_add(1, Ordering::SeqCst);
                        }
                        other => {
                            let code = match other {
                                Ok(s) => code_words(s.status()),
                                Err(e) => e.to_string(),
                            };
                            if let Ok(mut first) = first_refusal.lock() {
                                first.get_or_insert(code);
                            }
                            refused.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    if confirmed.load(Ordering::SeqCst) + refused.load(Ordering::SeqCst) >= n {
                        all.notify_one();
                    }
                }
            })
            .await;
        sent.map_err(|e| StreamError::Failed {
            doing: format!("publishing to stream '{stream}'"),
            cause: e.to_string(),
        })?;
    }
    let waited = endpoint.timeout;
    let done = |c: &AtomicU64, r: &AtomicU64| c.load(Ordering::SeqCst) + r.load(Ordering::SeqCst);
    if done(&confirmed, &refused) < n {
        match interrupt
            .unless(tokio::time::timeout(waited, all.notified()))
            .await
        {
            None => {
                return Err(Error::Interrupted {
                    what: format!(
                        "{} of {n} messages confirmed",
                        confirmed.load(Ordering::SeqCst)
                    ),
                });
            }
            Some(Err(_)) if done(&confirmed, &refused) < n => {
                return Err(StreamError::Unconfirmed {
                    missing: n - done(&confirmed, &refused),
                    published: n,
                    waited,
                }
                .into());
            }
            Some(_) => {}
        }
    }
    let refused = refused.load(Ordering::SeqCst);
    if refused > 0 {
        let code = first_refusal
            .lock()
            .ok()
            .and_then(|c| c.clone())
            .unwrap_or_default();
        return Err(StreamError::NotStored {
            refused,
            published: n,
            code,
        }
        .into());
    }
    out.line(format_args!("Messages confirmed."))?;
    let _ = endpoint
        .within("closing the producer", producer.close())
        .await;
    Ok(())
}

/// The offset `name` stored in `stream`, if any.
pub async fn stored_offset(
    endpoint: &Endpoint,
    stream: &str,
    name: &str,
) -> Result<Option<u64>, StreamError> {
    let doing = format!("asking for the offset consumer '{name}' stored in stream '{stream}'");
    let client = endpoint.raw_client().await?;
    let answer = endpoint
        .within(&doing, client.query_offset(name.to_owned(), stream))
        .await;
    let _ = endpoint.within("closing", client.close()).await;
    match answer? {
        Ok(offset) => Ok(Some(offset)),
        Err(ClientError::RequestError(ResponseCode::OffsetNotFound)) => Ok(None),
        Err(ClientError::RequestError(ResponseCode::StreamDoesNotExist)) => {
            Err(StreamError::NoSuchStream {
                name: stream.to_owned(),
            })
        }
        Err(e) => Err(failed(doing, &e)),
    }
}

/// The named consumer (see the module documentation): resumes after its stored offset, prints
/// each message, stores its offset, stops at the marker.
pub async fn receive<W: Write>(
    endpoint: &Endpoint,
    stream: &str,
    name: &str,
    limits: Limits,
    interrupt: &mut Interrupt,
    out: &mut Out<W>,
) -> Result<Ended, Error> {
    let Some(connected) = interrupt.unless(endpoint.ready(stream, &arguments())).await else {
        return Ok(Ended::Stopped(0));
    };
    let connected = connected?;
    let offset = match stored_offset(endpoint, stream, name).await? {
        Some(stored) => OffsetSpecification::Offset(stored + 1),
        None => OffsetSpecification::First,
    };
    let mut consumer = endpoint
        .consumer(&connected.env, stream, Some(name), offset)
        .await?;
    out.line(format_args!("Started consuming"))?;
    let mut first = None::<u64>;
    let mut last = None::<u64>;
    let mut stored = None::<u64>;
    let mut count = 0u64;
    let store_failed = |e: rabbitmq_stream_client::error::ConsumerStoreOffsetError| {
        Error::from(StreamError::Failed {
            doing: format!("storing the offset of consumer '{name}'"),
            cause: e.to_string(),
        })
    };
    let ended = deliveries(
        endpoint,
        &mut consumer,
        stream,
        limits,
        interrupt,
        async |consumer, d| {
            let offset = d.offset();
            if first.is_none() {
                out.line(format_args!("First message received"))?;
                first = Some(offset);
            }
            let text = body(&d);
            out.line(format_args!("Got message: {text} with offset: {offset}"))?;
            last = Some(offset);
            let marker = text.contains("marker");
            if count.is_multiple_of(STORE_EVERY) || marker {
                consumer.store_offset(offset).await.map_err(store_failed)?;
                stored = Some(offset);
            }
            count += 1;
            Ok(if marker { Flow::Stop } else { Flow::Continue })
        },
    )
    .await;
    // Stopped early: the last message printed is stored, so the next run starts after it.
    if let Some(offset) = last.filter(|l| stored != Some(*l)) {
        let _ = endpoint
            .within("storing the offset", consumer.store_offset(offset))
            .await;
    }
    let ended = ended?;
    if let (Some(first), Some(last)) = (first, last) {
        out.line(format_args!(
            "Done consuming first_offset: {first} last_offset: {last}"
        ))?;
    }
    Ok(ended)
}
