//! The loop both stream consumers share: deliveries until `--count` messages, `--timeout`
//! seconds without one, or Ctrl-C (SIGINT/SIGTERM), whichever comes first; then the
//! subscription is cancelled. The [`Interrupt`] is armed before connecting, so a signal during
//! the connection is not lost.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use common::shutdown::Signal;
use futures_util::StreamExt;
use rabbitmq_stream_client::Consumer;
use rabbitmq_stream_client::types::Delivery;

use super::connect::Endpoint;
use super::error::StreamError;
use crate::consume::{Ended, Flow, Limits};
use crate::error::Error;

/// SIGINT or SIGTERM, armed once; [`Interrupt::never`] for tests.
pub struct Interrupt {
    signal: Pin<Box<dyn Future<Output = Signal> + Send>>,
    fired: bool,
}

impl std::fmt::Debug for Interrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interrupt")
            .field("fired", &self.fired)
            .finish_non_exhaustive()
    }
}

impl Interrupt {
    /// Arms the handlers now (inside the runtime).
    pub fn install() -> Result<Self, Error> {
        Ok(Self {
            signal: Box::pin(common::shutdown::install().map_err(Error::Signal)?),
            fired: false,
        })
    }

    /// Never fires.
    pub fn never() -> Self {
        Self {
            signal: Box::pin(std::future::pending()),
            fired: false,
        }
    }

    /// Resolves on the signal (at once, every time, once it came).
    pub async fn fired(&mut self) {
        if !self.fired {
            (&mut self.signal).await;
            self.fired = true;
        }
    }

    /// Whether the signal came.
    pub fn has_fired(&self) -> bool {
        self.fired
    }

    /// Runs `work`, unless the signal comes first (`None`).
    pub async fn unless<T>(&mut self, work: impl Future<Output = T>) -> Option<T> {
        tokio::select! {
            v = work => Some(v),
            () = self.fired() => None,
        }
    }
}

/// A delivery's body as text: its first AMQP 1.0 data section (lossy UTF-8), empty without one.
pub fn body(delivery: &Delivery) -> String {
    String::from_utf8_lossy(delivery.message().data().unwrap_or_default()).into_owned()
}

/// Runs `handle` on each delivery of `consumer` until the limits or Ctrl-C, then cancels the
/// subscription. `handle` answers [`Flow::Stop`] to end the loop (the offset-tracking marker).
pub async fn deliveries(
    endpoint: &Endpoint,
    consumer: &mut Consumer,
    stream: &str,
    limits: Limits,
    interrupt: &mut Interrupt,
    mut handle: impl AsyncFnMut(&Consumer, Delivery) -> Result<Flow, Error>,
) -> Result<Ended, Error> {
    let mut handled = 0u64;
    let mut last = Instant::now();
    let ended = loop {
        if limits.count.is_some_and(|c| handled >= c) {
            break Ended::Count(handled);
        }
        let idle = async {
            match limits.idle {
                Some(idle) => tokio::time::sleep_until((last + idle).into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            next = consumer.next() => match next {
                Some(Ok(delivery)) => {
                    let flow = handle(consumer, delivery).await?;
                    handled += 1;
                    last = Instant::now();
                    if flow == Flow::Stop {
                        break Ended::Count(handled);
                    }
                }
                Some(Err(e)) => {
                    return Err(StreamError::Failed {
                        doing: format!("consuming stream '{stream}'"),
                        cause: e.to_string(),
                    }
                    .into());
                }
                None => {
                    return Err(StreamError::ConsumerClosed {
                        stream: stream.to_owned(),
                        received: handled,
                    }
                    .into());
                }
            },
            () = idle => {
                return Err(Error::Idle {
                    waited: limits.idle.unwrap_or_default(),
                    received: handled,
                });
            }
            () = interrupt.fired() => break Ended::Stopped(handled),
        }
    };
    // The subscription is cancelled; a broker that does not answer is not waited for long.
    let _ = endpoint
        .within("cancelling the subscription", consumer.handle().close())
        .await;
    Ok(ended)
}
