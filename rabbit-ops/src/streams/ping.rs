//! `rabbit-ops --url rabbitmq-stream://... ping`: is the stream port really ready? One attempt
//! proves that data goes through: our check of the peer and the client's handshake, a
//! temporary stream (`rabbit-ops-ping-<random>`, 1 MB retention) subscribed to from its first
//! offset, a random body published with a confirm, read back and compared (the round trip: from
//! the publish to the delivery), and the stream deleted
//! (also when a step fails, as far as the connection allows). The nodes are checked at once by
//! [`common::probe::check_all`], with its backoff and `--wait`, as for AMQP.

use std::io::Write;
use std::time::{Duration, Instant};

use common::exit::INTERRUPTED;
use common::output::Out;

use common::probe::{Outcome, Passed, Probe, Refusal, check_all};
use futures_util::StreamExt;
use rabbitmq_stream_client::types::{Message, OffsetSpecification};

use super::connect::Endpoint;
use super::consume::body;
use super::error::StreamError;
use crate::error::Error;

/// What `ping` checks and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// One endpoint per `--url`.
    pub targets: Vec<Endpoint>,
    /// `--timeout`: one whole attempt.
    pub timeout: Duration,
    /// `--wait`: keep trying for this long; `None`, one try.
    pub wait: Option<Duration>,
    /// `--json`: one JSON object per node.
    pub json: bool,
}

/// Checks every node and prints one line (or JSON object) each, as every readiness check
/// reports ([`common::probe::report`]); an error when any failed.
pub fn run<W: Write>(options: &Options, out: &mut Out<W>) -> Result<(), Error> {
    let outcomes = super::block_on(async || check(options).await)?;
    match common::probe::report(&outcomes, options.json, out) {
        Ok(()) => Ok(()),
        Err(f) if common::output::is_closed(&*f.error) => Ok(()),
        Err(f) => Err(Error::Ping {
            line: f.error.to_string(),
            interrupted: f.code == INTERRUPTED,
        }),
    }
}

/// Every node's outcome, in the order given.
pub async fn check(options: &Options) -> Result<Vec<Outcome>, Error> {
    let stop = common::shutdown::install().map_err(Error::Signal)?;
    let probe = Probe {
        wait: options.wait,
        timeout: options.timeout + Duration::from_secs(1),
    };
    let names: Vec<String> = options.targets.iter().map(|t| t.url.redacted()).collect();
    let timeout = options.timeout;
    let attempt = |target: String| {
        let endpoint = options
            .targets
            .iter()
            .find(|t| t.url.redacted() == target)
            .cloned();
        async move {
            let Some(endpoint) = endpoint else {
                return Err(Refusal::failed("no such target"));
            };
            match tokio::time::timeout(timeout, round_trip(&endpoint)).await {
                Ok(Ok(passed)) => Ok(passed),
                Ok(Err(e)) if e.is_transient() => Err(Refusal::not_ready(reason(&e))),
                Ok(Err(e)) => Err(Refusal::failed(reason(&e))),
                Err(_) => Err(Refusal::not_ready(format!(
                    "no answer within {}",
                    common::duration::duration(timeout)
                ))),
            }
        }
    };
    Ok(check_all(&names, probe, attempt, stop).await)
}

/// The error without the URL the report line already names.
fn reason(e: &StreamError) -> String {
    match e {
        StreamError::Connect { reason, .. } => reason.clone(),
        e => e.to_string(),
    }
}

/// One attempt: connect, publish, read back, delete.
async fn round_trip(endpoint: &Endpoint) -> Result<Passed, StreamError> {
    let connected = endpoint.connect().await?;
    let stream = format!("rabbit-ops-ping-{:016x}", rand::random::<u64>());
    endpoint
        .create_stream(
            &connected.env,
            &stream,
            &[("max-length-bytes", "1000000".to_owned())],
        )
        .await?;
    let exchanged = exchange(endpoint, &connected.env, &stream).await;
    let deleted = endpoint.delete_stream(&connected.env, &stream).await;
    let round_trip = exchanged?;
    deleted?;
    Ok(Passed {
        server: connected.server,
        round_trip,
    })
}

async fn exchange(
    endpoint: &Endpoint,
    env: &rabbitmq_stream_client::Environment,
    stream: &str,
) -> Result<Duration, StreamError> {
    let text = format!("rabbit-ops ping {:032x}", rand::random::<u128>());
    // Subscribed first, so that the round trip is the publish, the confirm and the delivery.
    let mut consumer = endpoint
        .consumer(env, stream, None, OffsetSpecification::First)
        .await?;
    let producer = endpoint.producer(env, stream, 1).await?;
    let sent = Instant::now();
    let doing = "waiting for the confirm";
    let status = endpoint
        .within(
            doing,
            producer.send_with_confirm(Message::builder().body(text.clone()).build()),
        )
        .await?
        .map_err(|e| StreamError::Failed {
            doing: doing.to_owned(),
            cause: e.to_string(),
        })?;
    if !status.confirmed() {
        return Err(StreamError::Check(
            "the broker refused the message (no confirm)".to_owned(),
        ));
    }
    let got = endpoint
        .within("reading the message back", consumer.next())
        .await?;
    let round_trip = sent.elapsed();
    let _ = endpoint
        .within("closing the producer", producer.close())
        .await;
    let _ = endpoint
        .within("cancelling the subscription", consumer.handle().close())
        .await;
    match got {
        Some(Ok(d)) if body(&d) == text => Ok(round_trip),
        Some(Ok(d)) => Err(StreamError::Check(format!(
            "another message came back than the one sent: '{}'",
            body(&d).chars().take(64).collect::<String>()
        ))),
        Some(Err(e)) => Err(StreamError::Failed {
            doing: "reading the message back".to_owned(),
            cause: e.to_string(),
        }),
        None => Err(StreamError::ConsumerClosed {
            stream: stream.to_owned(),
            received: 0,
        }),
    }
}
