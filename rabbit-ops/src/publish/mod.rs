//! Publishing that loses nothing: publisher confirms, mandatory publishing, and republishing
//! after a lost connection (`new-task`, and `emit-log*` with `--confirm`).
//!
//! With confirms on, every message is kept until the broker acknowledges it. Messages are
//! published `mandatory`, so one that no queue takes comes back (`basic.return`) before its
//! acknowledgement: it is reported, as is a message the broker nack-s, and the command exits 1.
//! When the connection goes away, the publisher reconnects through [`Broker::reconnect`],
//! declares its queue or exchange again and republishes every message not yet confirmed, then
//! goes on (so a message may arrive twice, never zero times). Without confirms, messages handed
//! to a connection that then dies are lost without a word: that is what confirms are for.
//!
//! Confirms carry the channel's delivery tag, kept by the one [`Tracker`]; a new channel starts
//! again at 1. Returns carry no tag, so each message gets a `message_id` (its sequence number)
//! to match a return to it.
//!
//! [`Publisher::send_all`] is the loop of the producing commands: publish, print a line; when
//! stdout is closed, it stops and says how many messages it did not send ([`Error::NotSent`]).

mod messages;
mod tracker;

pub use messages::Messages;
pub use tracker::{Settled, Tracker};

use std::collections::HashSet;
use std::io::Write;
use std::time::{Duration, Instant};

use amiquip::{AmqpProperties, Channel, Confirm, Publish, Return};
use common::output::{Out, PrintError};
use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};
use tracing::{debug, error};

use crate::broker::{Broker, Reconnected, Session, confirm_mode};
use crate::error::Error;
use crate::stop::Stop;

/// At most this many messages wait for their confirm before publishing pauses.
pub const WINDOW: usize = 4096;

/// AMQP delivery mode of a persistent message (written to disk by the broker).
pub const PERSISTENT: u8 = 2;

/// One message to publish.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The exchange (`""`: the default exchange, the routing key is a queue name).
    pub exchange: String,
    /// The routing key.
    pub routing_key: String,
    /// The body.
    pub body: Vec<u8>,
    /// Its properties (delivery mode, headers...).
    pub properties: AmqpProperties,
}

impl Outgoing {
    /// A message to the queue `queue`, through the default exchange.
    pub fn to_queue(queue: &str, body: impl Into<Vec<u8>>, properties: AmqpProperties) -> Self {
        Self {
            exchange: String::new(),
            routing_key: queue.to_owned(),
            body: body.into(),
            properties,
        }
    }
}

/// How to publish.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Publisher confirms (and mandatory publishing, and republishing after a reconnection).
    pub confirm: bool,
    /// How long to keep reconnecting, and to wait for confirms, before giving up; zero: a
    /// lost connection is the error, nothing is published again ([`Options::ONCE`]).
    pub retry_for: Duration,
}

impl Options {
    /// Publishing as the first tutorial does: no confirms, no reconnection.
    pub const ONCE: Options = Options {
        confirm: false,
        retry_for: Duration::ZERO,
    };
}

/// What a publishing run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Published {
    /// Messages published (each counted once).
    pub messages: u64,
    /// Messages confirmed by the broker (with confirms on).
    pub confirmed: u64,
    /// Publishes repeated after a lost connection.
    pub republished: u64,
    /// Reconnections.
    pub reconnections: u32,
}

/// How long a producer that stops early counts the messages it did not send.
const COUNT_LEFT_FOR: Duration = Duration::from_secs(1);

/// One connection's channel, in confirm mode or not.
struct Link {
    session: Session,
    confirms: Option<Receiver<Confirm>>,
    returns: Option<Receiver<Return>>,
}

/// A publisher (see the module documentation). `setup` declares what the messages need on each
/// new channel (the queue, the exchange).
pub struct Publisher<'a, S: FnMut(&Channel) -> Result<(), Error>> {
    broker: &'a Broker,
    options: Options,
    stop: Stop,
    /// What `setup` does, for the error line of a broker that does not answer it.
    setting_up: String,
    setup: S,
    link: Option<Link>,
    /// Messages waiting for their confirm (sequence number, message), by delivery tag.
    pending: Tracker<(u64, Outgoing)>,
    /// Messages a failed republish did not get to send, for the next channel.
    unsent: Vec<(u64, Outgoing)>,
    returned: HashSet<u64>,
    next_seq: u64,
    nacked: usize,
    unroutable: usize,
    stats: Published,
}

impl<'a, S: FnMut(&Channel) -> Result<(), Error>> Publisher<'a, S> {
    /// Connects (failing fast, like every command's first connection) and sets up the channel.
    pub fn new(broker: &'a Broker, options: Options, setup: S) -> Result<Self, Error> {
        Self::setting_up(broker, options, "setting up the channel", setup)
    }

    /// [`Publisher::new`], where `doing` says what `setup` does (`declaring queue 'hello'`) in
    /// the error line of a broker that does not answer it.
    pub fn setting_up(
        broker: &'a Broker,
        options: Options,
        doing: impl Into<String>,
        setup: S,
    ) -> Result<Self, Error> {
        let mut p = Self {
            broker,
            options,
            stop: Stop::never(),
            setting_up: doing.into(),
            setup,
            link: None,
            pending: Tracker::new(),
            unsent: Vec::new(),
            returned: HashSet::new(),
            next_seq: 1,
            nacked: 0,
            unroutable: 0,
            stats: Published::default(),
        };
        let session = broker.session()?;
        p.link = Some(p.open_link(session)?);
        Ok(p)
    }

    fn open_link(&mut self, session: Session) -> Result<Link, Error> {
        let (mut confirms, mut returns) = (None, None);
        let confirm = self.options.confirm;
        let setup = &mut self.setup;
        session.within(&self.setting_up, || {
            setup(&session.channel)?;
            if confirm {
                let ch = &session.channel;
                returns = Some(
                    ch.listen_for_returns()
                        .map_err(|e| Error::amqp("listening for returned messages", e))?,
                );
                confirms = Some(confirm_mode(ch)?);
            }
            Ok(())
        })?;
        Ok(Link {
            session,
            confirms,
            returns,
        })
    }

    /// Publishes one message (pausing while [`WINDOW`] messages await their confirm).
    pub fn publish(&mut self, message: Outgoing) -> Result<(), Error> {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.stats.messages += 1;
        loop {
            match self.send(&message, seq) {
                Ok(()) => {
                    if self.options.confirm {
                        self.pending.published((seq, message));
                    }
                    break;
                }
                Err(e) if e.is_connection_loss() && self.reconnects() => self.recover(&e)?,
                Err(e) => return Err(e),
            }
        }
        if self.options.confirm {
            self.settle(self.pending.waiting() >= WINDOW)?;
        }
        Ok(())
    }

    /// The loop of a producing command: publishes each of `messages` (`prepare` makes the
    /// message and the line that says it was sent), printing each line, then waits for the
    /// confirms. When stdout is closed, it stops: with nothing left to send, that is the end of
    /// the job; else [`Error::NotSent`] says how many messages were not sent.
    pub fn send_all<W: Write>(
        mut self,
        mut messages: Messages,
        out: &mut Out<W>,
        mut prepare: impl FnMut(String) -> (Outgoing, String),
    ) -> Result<Published, Error> {
        for text in messages.by_ref() {
            let (message, line) = prepare(text?);
            self.publish(message)?;
            match out.line(format_args!("{line}")) {
                Ok(()) => {}
                Err(PrintError::Closed(_)) => {
                    let sent = self.finish()?;
                    let left = messages.left(COUNT_LEFT_FOR);
                    if left.is_none() {
                        return Ok(sent);
                    }
                    return Err(Error::NotSent {
                        sent: sent.messages,
                        left,
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.finish()
    }

    fn send(&mut self, message: &Outgoing, seq: u64) -> Result<(), Error> {
        let confirm = self.options.confirm;
        let link = self.link.as_mut().ok_or(Error::ConnectionLost)?;
        let mut properties = message.properties.clone();
        if confirm {
            properties = properties.with_message_id(seq.to_string());
        }
        let publish = Publish {
            body: &message.body,
            routing_key: message.routing_key.clone(),
            mandatory: confirm,
            immediate: false,
            properties,
        };
        link.session
            .channel
            .basic_publish(message.exchange.as_str(), publish)
            .map_err(|e| Error::amqp(format!("publishing to {}", target(message)), e))
    }

    /// Handles the confirms that are there; with `wait`, waits until at least one more message
    /// is settled (or the deadline). Reconnects and republishes when the connection is gone.
    fn settle(&mut self, wait: bool) -> Result<(), Error> {
        let deadline = Instant::now() + self.options.retry_for;
        let mut wait = wait;
        loop {
            let Some(confirms) = self.link.as_ref().and_then(|l| l.confirms.clone()) else {
                return Ok(());
            };
            let got = if wait {
                match confirms.recv_deadline(deadline) {
                    Ok(c) => Ok(Some(c)),
                    Err(RecvTimeoutError::Timeout) => {
                        return Err(Error::Unconfirmed {
                            missing: self.pending.waiting(),
                            published: self.stats.messages,
                            waited: self.options.retry_for,
                        });
                    }
                    Err(RecvTimeoutError::Disconnected) => Err(Error::ConnectionLost),
                }
            } else {
                match confirms.try_recv() {
                    Ok(c) => Ok(Some(c)),
                    Err(TryRecvError::Empty) => Ok(None),
                    Err(TryRecvError::Disconnected) => Err(Error::ConnectionLost),
                }
            };
            match got {
                Ok(Some(c)) => {
                    self.confirm(&c);
                    wait = false;
                }
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.recover(&e)?;
                    wait = wait && self.pending.waiting() > 0;
                }
            }
        }
    }

    /// Applies one confirm: settles the message(s) it covers, reporting nacks and returns.
    fn confirm(&mut self, confirm: &Confirm) {
        // A return comes before the confirm of its message: take every return there is now.
        if let Some(returns) = self.link.as_ref().and_then(|l| l.returns.as_ref()) {
            while let Ok(r) = returns.try_recv() {
                let seq = r
                    .properties
                    .message_id()
                    .as_ref()
                    .and_then(|id| id.parse::<u64>().ok());
                if let Some(seq) = seq {
                    self.returned.insert(seq);
                }
                error!(
                    "message returned by the broker: {} ({}): nothing takes routing key '{}' \
                     at exchange '{}': {}",
                    r.reply_text,
                    r.reply_code,
                    r.routing_key,
                    r.exchange,
                    String::from_utf8_lossy(&r.content)
                );
            }
        }
        let (returned, nacked, unroutable, confirmed) = (
            &mut self.returned,
            &mut self.nacked,
            &mut self.unroutable,
            &mut self.stats.confirmed,
        );
        self.pending.confirm(confirm, |settled| {
            let (seq, message) = settled.item;
            if !settled.acked {
                *nacked += 1;
                error!(
                    "message {seq} nack-ed by the broker: {}",
                    String::from_utf8_lossy(&message.body)
                );
            } else if returned.remove(&seq) {
                *unroutable += 1;
            } else {
                *confirmed += 1;
            }
        });
    }

    /// Whether a lost connection is recovered ([`Options::ONCE`]: it is not).
    fn reconnects(&self) -> bool {
        !self.options.retry_for.is_zero()
    }

    /// Reconnects (bounded by `--retry-for`), sets the channel up again and republishes every
    /// unconfirmed message, in order: only after a real loss of the connection. A channel or
    /// connection the broker closed with a 4xx/5xx reply code (a message over its size limit,
    /// a frame it rejects) is a refusal: it is not retried, it is the error.
    fn recover(&mut self, why: &Error) -> Result<(), Error> {
        if let Some(refused) = self.refusal() {
            return Err(refused);
        }
        // Confirms that arrived before the connection went away still count: take them first,
        // so that only messages really unconfirmed are published again.
        if let Some(confirms) = self.link.as_ref().and_then(|l| l.confirms.clone()) {
            while let Ok(c) = confirms.try_recv() {
                self.confirm(&c);
            }
        }
        self.link = None;
        let give_up = Instant::now() + self.options.retry_for;
        let mut cause: Option<Error> = None;
        loop {
            let reason = cause.as_ref().unwrap_or(why);
            let session = match self.broker.reconnect(reason, &self.stop, Some(give_up)) {
                Reconnected::Connected(s) => *s,
                Reconnected::Stopped => return Err(Error::ConnectionLost),
                Reconnected::GaveUp(last) => {
                    return Err(Error::GaveUp {
                        after: self.options.retry_for,
                        last: last.to_string(),
                    });
                }
            };
            self.stats.reconnections += 1;
            let attempt = self.open_link(session);
            match attempt.and_then(|link| {
                self.link = Some(link);
                self.republish()
            }) {
                Ok(()) => return Ok(()),
                Err(e) if e.is_connection_loss() => {
                    self.link = None;
                    cause = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Why the channel went away, when the broker closed it with a 4xx/5xx reply code: amiquip
    /// hands the reason to the next request made on that channel.
    fn refusal(&self) -> Option<Error> {
        let link = self.link.as_ref()?;
        let probe = link.session.within("checking the channel", || {
            Ok(link.session.channel.qos(0, 0, false).err())
        });
        let e = probe.ok().flatten()?;
        let refused = match &e {
            amiquip::Error::ServerClosedChannel { code, .. }
            | amiquip::Error::ServerClosedConnection { code, .. } => *code >= 400,
            _ => false,
        };
        refused.then(|| Error::amqp("publishing", e))
    }

    /// On a new channel: publishes again, in order, every message still waiting for its confirm
    /// and those a failed attempt did not get to.
    fn republish(&mut self) -> Result<(), Error> {
        self.returned.clear();
        let mut todo = self.pending.restart();
        todo.append(&mut self.unsent);
        if !todo.is_empty() {
            debug!("republishing {} unconfirmed messages", todo.len());
        }
        let mut rest = todo.into_iter();
        while let Some((seq, message)) = rest.next() {
            if let Err(e) = self.send(&message, seq) {
                // Keep what was not sent for the next attempt.
                self.unsent.push((seq, message));
                self.unsent.extend(rest);
                return Err(e);
            }
            self.stats.republished += 1;
            self.pending.published((seq, message));
        }
        Ok(())
    }

    /// Waits for every confirm, then closes the channel and connection. Nack-ed or returned
    /// messages make it an error ([`Error::NotDelivered`]), after each was logged.
    pub fn finish(mut self) -> Result<Published, Error> {
        while self.options.confirm && self.pending.waiting() > 0 {
            self.settle(true)?;
        }
        if let Some(link) = self.link.take() {
            link.session.close()?;
        }
        if self.nacked + self.unroutable > 0 {
            return Err(Error::NotDelivered {
                published: self.stats.messages,
                nacked: self.nacked,
                returned: self.unroutable,
            });
        }
        Ok(self.stats)
    }
}

/// `queue 'x'` or `exchange 'x'`, for messages.
fn target(message: &Outgoing) -> String {
    if message.exchange.is_empty() {
        format!("queue '{}'", message.routing_key)
    } else {
        format!("exchange '{}'", message.exchange)
    }
}
