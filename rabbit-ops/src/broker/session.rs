//! A connection with its channel, and the declarations every tutorial shares: a queue or an
//! exchange declared differently before is a clear error that says how to delete it.

use amiquip::{
    Channel, Confirm, Connection, Exchange, ExchangeDeclareOptions, ExchangeType, FieldTable,
    Queue, QueueDeclareOptions,
};
use crossbeam_channel::Receiver;
use tracing::debug;

use crate::error::Error;

/// A connection with one open channel.
pub struct Session {
    /// The channel (declared before the connection so that it is dropped first).
    pub channel: Channel,
    /// The connection.
    pub connection: Connection,
}

impl Session {
    /// Opens a channel on `connection`.
    pub fn open(mut connection: Connection) -> Result<Self, Error> {
        let channel = connection
            .open_channel(None)
            .map_err(|e| Error::amqp("opening a channel", e))?;
        Ok(Session {
            channel,
            connection,
        })
    }

    /// Closes the channel, then the connection, and says so at debug level.
    pub fn close(self) -> Result<(), Error> {
        self.channel
            .close()
            .map_err(|e| Error::amqp("closing the channel", e))?;
        self.connection
            .close()
            .map_err(|e| Error::amqp("closing the connection", e))?;
        debug!("channel and connection closed");
        Ok(())
    }

    /// Sets the prefetch count (`basic.qos`): at most `n` unacknowledged messages at a time.
    pub fn prefetch(&self, n: u16) -> Result<(), Error> {
        self.channel
            .qos(0, n, false)
            .map_err(|e| Error::amqp(format!("setting prefetch to {n}"), e))
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
