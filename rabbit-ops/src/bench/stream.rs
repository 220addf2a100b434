//! `rabbit-ops bench --stream`: the same figures as the queue bench ([`Report`]), for RabbitMQ
//! Streams through the stream client the stream commands use ([`Endpoint`]).
//!
//! Workload: a fresh stream (`rabbit-ops-bench-<pid>-<nanos>`), one consumer subscribed from its
//! first offset before anything is published, then one producer publishes `--messages` bodies
//! ([`body`]: sequence number and time, padded to `--size`), each confirmed by the broker
//! (publisher confirms are how a stream producer knows a message is stored). At most
//! [`IN_FLIGHT`] messages wait for their confirm at a time. The publish rate counts confirmed
//! messages; the consume rate runs from the first publish to the last delivery; the latency of
//! a message is from its publish to its delivery. The stream is deleted afterwards, also after
//! a failure or Ctrl-C (exit 130).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::output::Out;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use rabbitmq_stream_client::Consumer;
use rabbitmq_stream_client::types::{Message, OffsetSpecification};
use tokio::sync::Semaphore;

use common::latency::histogram;

use super::{Report, Stamp, body, decode};
use crate::error::Error;
use crate::streams::consume::Interrupt;
use crate::streams::{Endpoint, StreamError, block_on};

/// The most messages waiting for their confirm at a time (the client keeps each one until
/// then).
pub const IN_FLIGHT: usize = 10_000;
/// Messages per batch the producer sends at once.
const BATCH: usize = 100;
/// How long the consumer may go without a delivery before what is missing counts as lost.
const IDLE: Duration = Duration::from_secs(10);

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The broker.
    pub endpoint: Endpoint,
    /// Messages in all.
    pub messages: u64,
    /// Bytes per message (at least [`super::HEADER`]).
    pub size: usize,
    /// One JSON object instead of lines.
    pub json: bool,
}

/// Runs the benchmark on a stream of its own, prints its figures, and deletes the stream.
/// Interrupted (SIGINT, SIGTERM), it prints no figures: the error says how far it went.
pub fn run(config: &Config, out: &mut Out<impl std::io::Write>) -> Result<Report, Error> {
    let (report, interrupted) = block_on(async || measure_on_own_stream(config).await)?;
    if let Some((published, received)) = interrupted {
        return Err(Error::Interrupted {
            what: format!(
                "bench: {published} of {} messages published, {received} received; stream \
                 deleted",
                config.messages
            ),
        });
    }
    if config.json {
        out.line(format_args!("{}", report.json()))?;
    } else {
        out.line(format_args!(
            "bench: {} messages of {} bytes, 1 producer, 1 consumer, a stream, confirms",
            config.messages, config.size
        ))?;
        out.line(format_args!("publish: {:.0} msg/s", report.publish_per_s))?;
        out.line(format_args!("consume: {:.0} msg/s", report.consume_per_s))?;
        out.line(format_args!(
            "latency: p50 {:.3} ms, p99 {:.3} ms",
            report.p50_ms, report.p99_ms
        ))?;
        out.line(format_args!(
            "lost: {}, duplicates: {}",
            report.lost, report.duplicates
        ))?;
    }
    if report.lost > 0 {
        return Err(Error::Lost {
            lost: report.lost,
            messages: config.messages,
        });
    }
    Ok(report)
}

/// Published and received so far, when Ctrl-C ended the run.
type Interrupted = Option<(u64, u64)>;

async fn measure_on_own_stream(config: &Config) -> Result<(Report, Interrupted), Error> {
    let endpoint = &config.endpoint;
    // Signals first: from the stream's creation on, a signal ends the run with it deleted.
    let mut interrupt = Interrupt::install()?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let stream = format!("rabbit-ops-bench-{}-{nanos:x}", std::process::id());
    let connected = endpoint.connect().await?;
    // Room for every message, so that retention never cuts what the consumer has yet to read.
    let room = (config.messages.saturating_mul(config.size as u64 + 64)).max(1_000_000) * 2;
    endpoint
        .create_stream(
            &connected.env,
            &stream,
            &[("max-length-bytes", room.to_string())],
        )
        .await?;
    tracing::info!("bench stream '{stream}'");
    let measured = measure(config, &connected.env, &stream, &mut interrupt).await;
    let deleted = endpoint.delete_stream(&connected.env, &stream).await;
    let measured = measured?;
    deleted?;
    Ok(measured)
}

/// What the consumer counted.
struct Counted {
    received: u64,
    duplicates: u64,
    lost: u64,
    last_nanos: u64,
    latency: Histogram<u64>,
}

async fn measure(
    config: &Config,
    env: &rabbitmq_stream_client::Environment,
    stream: &str,
    interrupt: &mut Interrupt,
) -> Result<(Report, Interrupted), Error> {
    let endpoint = &config.endpoint;
    let n = config.messages;
    let consumer = endpoint
        .consumer(env, stream, None, OffsetSpecification::First)
        .await?;
    let producer = endpoint.producer(env, stream, BATCH).await?;
    let epoch = Instant::now();
    let received = Arc::new(AtomicU64::new(0));
    let consuming = tokio::spawn(consume(consumer, n, epoch, Arc::clone(&received)));
    let confirmed = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let window = Arc::new(Semaphore::new(IN_FLIGHT));
    let publishing = async {
        for seq in 0..n {
            // A permit per message until its confirm, given back by the callback.
            window
                .acquire()
                .await
                .map_err(|e| StreamError::Failed {
                    doing: "publishing".to_owned(),
                    cause: e.to_string(),
                })?
                .forget();
            let message = Message::builder()
                .body(body(
                    Stamp {
                        // At most MAX_MESSAGES (cli checks it), which fits a u32.
                        seq: u32::try_from(seq).unwrap_or(u32::MAX),
                        late_micros: 0,
                        sent_nanos: since(epoch),
                    },
                    config.size,
                ))
                .build();
            let (confirmed, refused) = (Arc::clone(&confirmed), Arc::clone(&refused));
            let window = Arc::clone(&window);
            producer
                .send(message, move |status| {
                    let counter = match status {
                        Ok(s) if s.confirmed() => &confirmed,
                        _ => &refused,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    window.add_permits(1);
                    async {}
                })
                .await
                .map_err(|e| StreamError::Failed {
                    doing: format!("publishing to stream '{stream}'"),
                    cause: e.to_string(),
                })?;
        }
        // Every permit back: every message confirmed or refused.
        let all = u32::try_from(IN_FLIGHT).unwrap_or(u32::MAX);
        let _all_back = endpoint
            .within("waiting for the confirms", window.acquire_many(all))
            .await?
            .map_err(|e| StreamError::Failed {
                doing: "waiting for the confirms".to_owned(),
                cause: e.to_string(),
            })?;
        Ok::<_, Error>(epoch.elapsed())
    };
    let published = interrupt.unless(publishing).await;
    let _ = endpoint
        .within("closing the producer", producer.close())
        .await;
    let Some(published) = published else {
        consuming.abort();
        return Ok((Report::default(), Some(counts(&confirmed, &received))));
    };
    let publish_time = published?;
    let counted = match interrupt.unless(consuming).await {
        Some(joined) => joined.map_err(|e| StreamError::Failed {
            doing: "consuming".to_owned(),
            cause: e.to_string(),
        })??,
        None => return Ok((Report::default(), Some(counts(&confirmed, &received)))),
    };
    let refused = refused.load(Ordering::Relaxed);
    if refused > 0 {
        return Err(StreamError::Check(format!(
            "the broker refused {refused} of {n} messages (no confirm)"
        ))
        .into());
    }
    let secs = |d: Duration| d.as_secs_f64().max(1e-9);
    let ms = |q: f64| counted.latency.value_at_quantile(q) as f64 / 1000.0;
    Ok((
        Report {
            publish_per_s: n as f64 / secs(publish_time),
            consume_per_s: counted.received as f64 / secs(Duration::from_nanos(counted.last_nanos)),
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
            lost: counted.lost,
            duplicates: counted.duplicates,
        },
        None,
    ))
}

/// Nanoseconds since `epoch`.
fn since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Published (confirmed) and received so far.
fn counts(confirmed: &AtomicU64, received: &AtomicU64) -> (u64, u64) {
    (
        confirmed.load(Ordering::Relaxed),
        received.load(Ordering::Relaxed),
    )
}

/// Reads until every sequence number arrived, or [`IDLE`] passes without a delivery.
async fn consume(
    mut consumer: Consumer,
    n: u64,
    epoch: Instant,
    received: Arc<AtomicU64>,
) -> Result<Counted, Error> {
    let mut seen = vec![false; usize::try_from(n).unwrap_or(usize::MAX)];
    let mut counted = Counted {
        received: 0,
        duplicates: 0,
        lost: 0,
        last_nanos: 0,
        latency: histogram(),
    };
    let mut distinct = 0u64;
    while distinct < n {
        let Ok(next) = tokio::time::timeout(IDLE, consumer.next()).await else {
            break;
        };
        let delivery = match next {
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                return Err(StreamError::Failed {
                    doing: "consuming".to_owned(),
                    cause: e.to_string(),
                }
                .into());
            }
            None => break,
        };
        let now = since(epoch);
        let Some(Stamp {
            seq, sent_nanos, ..
        }) = delivery.message().data().and_then(decode)
        else {
            continue;
        };
        let (seq, sent) = (u64::from(seq), sent_nanos);
        counted.received += 1;
        received.store(counted.received, Ordering::Relaxed);
        counted.last_nanos = now;
        let _ = counted
            .latency
            .record(now.saturating_sub(sent).div_ceil(1000).max(1));
        match usize::try_from(seq).ok().and_then(|i| seen.get_mut(i)) {
            Some(flag) if !*flag => {
                *flag = true;
                distinct += 1;
            }
            _ => counted.duplicates += 1,
        }
    }
    counted.lost = n - distinct;
    let _ = consumer.handle().close().await;
    Ok(counted)
}
