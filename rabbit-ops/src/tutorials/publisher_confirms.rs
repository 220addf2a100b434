//! Tutorial 7, "Publisher Confirms": the broker acknowledges (or, rarely, nack-s) each message
//! a channel in confirm mode publishes. Three ways of waiting for those confirms, each timed:
//!
//! 1. individually: publish one, wait for its confirm, publish the next (simple, slow);
//! 2. in batches of 100: publish 100, wait until all are confirmed;
//! 3. asynchronously: publish everything, handling confirms as they come back, then wait for
//!    the last ones.
//!
//! Confirms carry the channel's delivery tag (1, 2, ...) and may cover every earlier tag
//! (`multiple`); the one [`Tracker`] keeps the unconfirmed messages by tag, so every message
//! ends up confirmed or reported (`Message with body ... has been nack-ed`).

use std::io::Write;
use std::time::{Duration, Instant};

use amiquip::{Channel, Confirm, Exchange, Publish, QueueDeclareOptions, QueueDeleteOptions};
use common::output::Out;
use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::broker::{Broker, confirm_mode, declare_queue, exclusive_queue};
use crate::error::Error;
use crate::publish::Tracker;

/// The tutorial's message count.
pub const MESSAGES: u64 = 10_000;
/// The tutorial's batch size.
pub const BATCH: usize = 100;

/// The three strategies, in the tutorial's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Wait for each confirm before the next publish.
    Individually,
    /// Wait after every [`BATCH`] publishes.
    Batch,
    /// Handle confirms while publishing.
    Async,
}

impl Strategy {
    /// All three, in order.
    pub const ALL: [Strategy; 3] = [Strategy::Individually, Strategy::Batch, Strategy::Async];

    fn name(self) -> &'static str {
        match self {
            Strategy::Individually => "individually",
            Strategy::Batch => "in batches",
            Strategy::Async => "asynchronously",
        }
    }

    fn line(self, n: u64, ms: u128) -> String {
        let (n, ms) = (thousands(u128::from(n)), thousands(ms));
        match self {
            Strategy::Individually => format!("Published {n} messages individually in {ms} ms"),
            Strategy::Batch => format!("Published {n} messages in batch in {ms} ms"),
            Strategy::Async => {
                format!("Published {n} messages and handled confirms asynchronously in {ms} ms")
            }
        }
    }
}

/// `1234567` as `1,234,567`, like the tutorial's `%,d`.
pub fn thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One channel in confirm mode publishing to one queue, as the tutorial's strategies do.
struct ConfirmingChannel<'a> {
    exchange: Exchange<'a>,
    queue: String,
    confirms: Receiver<Confirm>,
    tracker: Tracker<String>,
    acked: u64,
    /// Nack-ed messages: (tag, body, multiple).
    nacked: Vec<(u64, String, bool)>,
    strategy: Strategy,
    timeout: Duration,
}

impl ConfirmingChannel<'_> {
    fn publish(&mut self, body: String) -> Result<(), Error> {
        self.exchange
            .publish(Publish::new(body.as_bytes(), self.queue.clone()))
            .map_err(|e| Error::amqp(format!("publishing to queue '{}'", self.queue), e))?;
        self.tracker.published(body);
        Ok(())
    }

    fn settle(&mut self, confirm: &Confirm) {
        let (acked, nacked) = (&mut self.acked, &mut self.nacked);
        self.tracker.confirm(confirm, |s| {
            if s.acked {
                *acked += 1;
            } else {
                nacked.push((s.tag, s.item, s.multiple));
            }
        });
    }

    /// Handles the confirms already there, without waiting.
    fn drain(&mut self) {
        while let Ok(c) = self.confirms.try_recv() {
            self.settle(&c);
        }
    }

    /// Waits until every published message is confirmed.
    fn wait_all(&mut self) -> Result<(), Error> {
        let deadline = Instant::now() + self.timeout;
        while self.tracker.waiting() > 0 {
            match self.confirms.recv_deadline(deadline) {
                Ok(c) => self.settle(&c),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(Error::ConfirmTimeout {
                        strategy: self.strategy.name(),
                        missing: self.tracker.waiting(),
                        published: self.tracker.published_count(),
                        waited: self.timeout,
                    });
                }
                Err(RecvTimeoutError::Disconnected) => return Err(Error::ConnectionLost),
            }
        }
        Ok(())
    }
}

/// What one strategy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Which strategy.
    pub strategy: Strategy,
    /// Messages published.
    pub published: u64,
    /// Messages acked.
    pub acked: u64,
    /// Messages nack-ed.
    pub nacked: usize,
    /// Wall time, publishing and confirming.
    pub elapsed: Duration,
}

fn run_strategy(
    channel: &Channel,
    strategy: Strategy,
    messages: u64,
    queue: Option<&str>,
    timeout: Duration,
    out: &mut Out<impl Write>,
) -> Result<Outcome, Error> {
    let q = if let Some(name) = queue {
        declare_queue(channel, name, QueueDeclareOptions::default(), "queue")?
    } else {
        exclusive_queue(channel)?
    };
    let confirms = confirm_mode(channel)?;
    let mut p = ConfirmingChannel {
        exchange: Exchange::direct(channel),
        queue: q.name().to_owned(),
        confirms,
        tracker: Tracker::new(),
        acked: 0,
        nacked: Vec::new(),
        strategy,
        timeout,
    };
    let start = Instant::now();
    for i in 0..messages {
        p.publish(i.to_string())?;
        match strategy {
            Strategy::Individually => p.wait_all()?,
            Strategy::Batch if p.tracker.waiting() >= BATCH => p.wait_all()?,
            Strategy::Batch => {}
            Strategy::Async => p.drain(),
        }
    }
    p.wait_all()?;
    let elapsed = start.elapsed();
    out.line(format_args!(
        "{}",
        strategy.line(messages, elapsed.as_millis())
    ))?;
    for (tag, body, multiple) in &p.nacked {
        out.line(format_args!(
            "Message with body {body} has been nack-ed. Sequence number: {tag}, multiple: \
             {multiple}"
        ))?;
    }
    if queue.is_none() {
        q.delete(QueueDeleteOptions::default())
            .map_err(|e| Error::amqp("deleting the temporary queue", e))?;
    }
    Ok(Outcome {
        strategy,
        published: messages,
        acked: p.acked,
        nacked: p.nacked.len(),
        elapsed,
    })
}

/// `publisher-confirms`: the three strategies, one channel each, on one connection. With
/// `queue`, every message goes there (and stays); else to a temporary queue per strategy.
pub fn run(
    broker: &Broker,
    messages: u64,
    queue: Option<&str>,
    timeout: Duration,
    out: &mut Out<impl Write>,
) -> Result<Vec<Outcome>, Error> {
    let mut connection = broker.connect()?;
    let mut outcomes = Vec::with_capacity(3);
    for strategy in Strategy::ALL {
        let channel = connection
            .open_channel(None)
            .map_err(|e| Error::amqp("opening a channel", e))?;
        outcomes.push(run_strategy(
            &channel, strategy, messages, queue, timeout, out,
        )?);
        channel
            .close()
            .map_err(|e| Error::amqp("closing the channel", e))?;
    }
    connection
        .close()
        .map_err(|e| Error::amqp("closing the connection", e))?;
    let nacked: usize = outcomes.iter().map(|o| o.nacked).sum();
    if nacked > 0 {
        return Err(Error::Nacked {
            nacked,
            published: outcomes.iter().map(|o| o.published).sum(),
        });
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn lines_read_like_the_tutorial() {
        assert_eq!(
            Strategy::Individually.line(50_000, 5549),
            "Published 50,000 messages individually in 5,549 ms"
        );
        assert_eq!(
            Strategy::Batch.line(50_000, 2331),
            "Published 50,000 messages in batch in 2,331 ms"
        );
        assert_eq!(
            Strategy::Async.line(50_000, 4054),
            "Published 50,000 messages and handled confirms asynchronously in 4,054 ms"
        );
    }
}
