//! Stream tutorial 1, "Hello World!" (`rust-stream/src/bin/send.rs` and `receive.rs` of
//! rabbitmq-tutorials): `stream-send` publishes one message with a confirm to the stream
//! `hello-rust-stream` (created if need be, retention 5 GB), `stream-receive` reads the stream
//! from its first message and prints each with its offset.

use std::io::Write;

use common::output::Out;
use rabbitmq_stream_client::types::{Message, OffsetSpecification};

use super::connect::Endpoint;
use super::consume::{Interrupt, body, deliveries};
use super::error::StreamError;
use crate::consume::{Ended, Flow, Limits};
use crate::error::Error;

/// The tutorial's stream.
pub const STREAM: &str = "hello-rust-stream";
/// Its retention: `max-length-bytes` 5 GB, as the tutorial creates it.
pub const RETENTION: u64 = 5_000_000_000;
/// The tutorial's message.
pub const MESSAGE: &str = "Hello, World!";
/// The consumer's first line, once it is subscribed.
pub const WAITING: &str = " [*] Waiting for messages. To exit press CTRL+C";

/// The arguments the tutorial creates its stream with.
pub fn arguments() -> [(&'static str, String); 1] {
    [("max-length-bytes", RETENTION.to_string())]
}

/// Creates `stream` (if need be), publishes `message` and waits for its confirm; prints `Sent
/// message to stream: <stream>`.
pub async fn send<W: Write>(
    endpoint: &Endpoint,
    stream: &str,
    message: &str,
    out: &mut Out<W>,
) -> Result<(), Error> {
    let connected = endpoint.ready(stream, &arguments()).await?;
    let producer = endpoint.producer(&connected.env, stream, 1).await?;
    let doing = format!("waiting for the confirm of the message sent to stream '{stream}'");
    let status = endpoint
        .within(
            &doing,
            producer.send_with_confirm(Message::builder().body(message).build()),
        )
        .await?
        .map_err(|e| StreamError::Failed {
            doing,
            cause: e.to_string(),
        })?;
    if !status.confirmed() {
        return Err(StreamError::NotStored {
            refused: 1,
            published: 1,
            code: super::connect::code_words(status.status()),
        }
        .into());
    }
    out.line(format_args!("Sent message to stream: {stream}"))?;
    let _ = endpoint
        .within("closing the producer", producer.close())
        .await;
    Ok(())
}

/// Creates `stream` (if need be) and prints each message from `offset` on, `Got message: <body>
/// with offset: <offset>`, after the [`WAITING`] line; until `limits` or Ctrl-C.
pub async fn receive<W: Write>(
    endpoint: &Endpoint,
    stream: &str,
    offset: OffsetSpecification,
    limits: Limits,
    interrupt: &mut Interrupt,
    out: &mut Out<W>,
) -> Result<Ended, Error> {
    let Some(connected) = interrupt.unless(endpoint.ready(stream, &arguments())).await else {
        return Ok(Ended::Stopped(0));
    };
    let connected = connected?;
    let mut consumer = endpoint
        .consumer(&connected.env, stream, None, offset)
        .await?;
    out.line(format_args!("{WAITING}"))?;
    deliveries(
        endpoint,
        &mut consumer,
        stream,
        limits,
        interrupt,
        async |_, d| {
            out.line(format_args!(
                "Got message: {} with offset: {}",
                body(&d),
                d.offset()
            ))?;
            Ok(Flow::Continue)
        },
    )
    .await
}
