//! A connection with its channel, and the declarations every tutorial shares: a queue or an
//! exchange declared differently before is a clear error that says how to delete it.

use amiquip::{
    Channel, Confirm, Connection, Exchange, ExchangeDeclareOptions, ExchangeType, FieldTable,
    Queue, QueueDeclareOptions,
};
use crossbeam_channel::Receiver;
use tracing::{debug, warn};

use super::deadline::{Deadline, GRACE};
use crate::error::Error;

/// A connection with one open channel.
pub struct Session {
    /// The deadline of its requests (first: dropped first, it bounds what the drops of the
    /// channel and connection wait for).
    deadline: Option<Deadline>,
    /// The channel (declared before the connection so that it is dropped first).
    pub channel: Channel,
    /// The connection.
    pub connection: Connection,
}

impl Session {
    /// Opens a channel on `connection` (no deadline: see `Session::guarded`).
    pub fn open(mut connection: Connection) -> Result<Self, Error> {
        let channel = connection
            .open_channel(None)
            .map_err(|e| Error::amqp("opening a channel", e))?;
        Ok(Session {
            deadline: None,
            channel,
            connection,
        })
    }

    /// Opens a channel on `connection`, every request of it bounded by `deadline`.
    pub(crate) fn guarded(mut connection: Connection, deadline: Deadline) -> Result<Self, Error> {
        let channel = deadline.within("opening a channel", || {
            connection
                .open_channel(None)
                .map_err(|e| Error::amqp("opening a channel", e))
        })?;
        Ok(Session {
            deadline: Some(deadline),
            channel,
            connection,
        })
    }

    /// Runs requests to the broker (`doing`) within the deadline, if the session has one.
    pub fn within<T>(&self, doing: &str, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
        match &self.deadline {
            Some(d) => d.within(doing, f),
            None => f(),
        }
    }

    /// A command gives up: whatever waits for the broker after now ends within a moment.
    pub fn reap(&self) {
        if let Some(d) = &self.deadline {
            d.reap(GRACE);
        }
    }

    /// A guard that, dropped before `Reaper::disarm`, calls [`Session::reap`]: declared
    /// after a consumer, it is dropped first on an early return, so that the consumer's cancel
    /// on drop waits for a stalled broker a moment only.
    pub fn reaper(&self) -> Reaper<'_> {
        Reaper(Some(self))
    }

    /// Closes the channel, then the connection (within the deadline), and says so at debug
    /// level.
    pub fn close(self) -> Result<(), Error> {
        let Session {
            mut deadline,
            channel,
            connection,
        } = self;
        let close = || {
            channel
                .close()
                .map_err(|e| Error::amqp("closing the channel", e))?;
            connection
                .close()
                .map_err(|e| Error::amqp("closing the connection", e))
        };
        match &deadline {
            // Everything was sent before the close: a broker too busy (or frozen) to answer
            // it in time only loses the close-ok, so that is a warning, not a failure.
            Some(d) => match d.within("closing the connection", close) {
                Err(e @ Error::Stalled { .. }) => warn!("{e}"),
                other => other?,
            },
            None => close()?,
        }
        if let Some(d) = deadline.as_mut() {
            d.closed();
        }
        debug!("channel and connection closed");
        Ok(())
    }

    /// Sets the prefetch count (`basic.qos`): at most `n` unacknowledged messages at a time.
    pub fn prefetch(&self, n: u16) -> Result<(), Error> {
        per_consumer_prefetch(&self.channel, n)
    }
}

/// Sets the prefetch count of each consumer the channel starts from now on: `basic.qos` with
/// `global` false. (Global QoS, one limit shared by the channel's consumers, is refused by
/// quorum queues and, by default, by RabbitMQ 4.3 for every queue.)
pub fn per_consumer_prefetch(channel: &Channel, n: u16) -> Result<(), Error> {
    channel
        .qos(0, n, false)
        .map_err(|e| Error::amqp(format!("setting prefetch to {n}"), e))
}

/// See [`Session::reaper`].
pub struct Reaper<'a>(Option<&'a Session>);

impl Reaper<'_> {
    /// The command went well: nothing to reap.
    pub fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for Reaper<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.0 {
            s.reap();
        }
    }
}

/// Declares a queue; `flag` is the option that picks another name (for the error line).
pub fn declare_queue<'a>(
    channel: &'a Channel,
    name: &str,
    options: QueueDeclareOptions,
    flag: &'static str,
) -> Result<Queue<'a>, Error> {
    channel
        .queue_declare(name, options)
        .map_err(|e| redeclare(e, "queue", name, flag))
}

/// The error of a failed declaration of queue `name` (picked with `--queue`).
pub(crate) fn declare_queue_error(e: amiquip::Error, name: &str) -> Error {
    redeclare(e, "queue", name, "queue")
}

/// Declares an exclusive queue with a name the server picks: it goes with the connection.
pub fn exclusive_queue(channel: &Channel) -> Result<Queue<'_>, Error> {
    let exclusive = QueueDeclareOptions {
        exclusive: true,
        ..QueueDeclareOptions::default()
    };
    declare_queue(channel, "", exclusive, "queue")
}

/// Puts the channel in confirm mode; answers where its publisher confirms arrive.
pub fn confirm_mode(channel: &Channel) -> Result<Receiver<Confirm>, Error> {
    let confirms = channel
        .listen_for_publisher_confirms()
        .map_err(|e| Error::amqp("listening for publisher confirms", e))?;
    channel
        .enable_publisher_confirms()
        .map_err(|e| Error::amqp("enabling publisher confirms", e))?;
    Ok(confirms)
}

/// Declares an exchange (non-durable, as the tutorials do).
pub fn declare_exchange<'a>(
    channel: &'a Channel,
    name: &str,
    kind: ExchangeType,
) -> Result<Exchange<'a>, Error> {
    channel
        .exchange_declare(kind, name, ExchangeDeclareOptions::default())
        .map_err(|e| redeclare(e, "exchange", name, "exchange"))
}

/// Binds a queue to an exchange.
pub fn bind(
    queue: &Queue<'_>,
    exchange: &Exchange<'_>,
    key: &str,
    args: FieldTable,
) -> Result<(), Error> {
    queue.bind(exchange, key, args).map_err(|e| {
        Error::amqp(
            format!(
                "binding queue '{}' to exchange '{}' with key '{key}'",
                queue.name(),
                exchange.name()
            ),
            e,
        )
    })
}

fn redeclare(e: amiquip::Error, kind: &'static str, name: &str, flag: &'static str) -> Error {
    match e {
        amiquip::Error::ServerClosedConnection { code: 541, message }
            if kind == "queue" && message.contains("transient_nonexcl_queues") =>
        {
            Error::TransientRefused {
                name: name.to_owned(),
                what: "non-durable and not exclusive",
                hint: "declare it durable or exclusive",
            }
        }
        amiquip::Error::ServerClosedChannel {
            code: 406, message, ..
        } => Error::Redeclare {
            kind,
            name: name.to_owned(),
            detail: message
                .strip_prefix("PRECONDITION_FAILED - ")
                .unwrap_or(&message)
                .to_owned(),
            how: if kind == "queue" {
                format!("rabbitmqctl delete_queue {name}")
            } else {
                format!("rabbitmqadmin delete exchange name={name}")
            },
            flag,
        },
        other => Error::amqp(format!("declaring {kind} '{name}'"), other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RabbitMQ 4.3's refusal of a transient non-exclusive queue (541, the connection closed,
    /// a text of several lines) is one line that says what to do.
    #[test]
    fn a_refused_transient_queue_says_what_to_do() {
        let e = redeclare(
            amiquip::Error::ServerClosedConnection {
                code: 541,
                message: "INTERNAL_ERROR - Feature `transient_nonexcl_queues` is deprecated.\n\
                          By default, this feature is not permitted anymore.\n"
                    .into(),
            },
            "queue",
            "q",
            "queue",
        );
        assert_eq!(
            e.to_string(),
            "queue 'q' is non-durable and not exclusive, which RabbitMQ 4.3 and later refuse by \
             default (deprecated feature transient_nonexcl_queues): declare it durable or \
             exclusive, or permit it on the broker \
             (deprecated_features.permit.transient_nonexcl_queues = true)"
        );
        assert!(!e.is_connection_loss(), "a refusal is not retried");
    }

    #[test]
    fn precondition_failed_says_what_to_do() {
        let e = redeclare(
            amiquip::Error::ServerClosedChannel {
                channel_id: 1,
                code: 406,
                message: "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'hello' \
                          in vhost '/': received 'true' but current is 'false'"
                    .into(),
            },
            "queue",
            "hello",
            "queue",
        );
        assert_eq!(
            e.to_string(),
            "queue 'hello' already exists with other settings (inequivalent arg 'durable' for \
             queue 'hello' in vhost '/': received 'true' but current is 'false'): delete it \
             (rabbitmqctl delete_queue hello) or pick another name with --queue"
        );
    }
}
