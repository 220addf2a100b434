//! `rabbit-ops ping`: is the broker really ready? For CI jobs, before their tests run.
//!
//! One attempt against one node proves that data goes through: it connects (TCP and the AMQP
//! handshake, within `--connect-timeout`), opens a channel, declares an exclusive server-named
//! queue, consumes from it, publishes a random body to it with a publisher confirm, waits for
//! the confirm and the delivery, compares the body, and closes; the queue, exclusive, goes with
//! the connection, whatever happens to the process. The server's product and version come from
//! the server properties of its `connection.start` (amiquip keeps them:
//! [`amiquip::Connection::server_properties`]).
//!
//! Every node (`--url` repeated, or `$AMQP_URL`'s list) is checked at once by
//! [`common::probe::check_all`], which retries what is not ready yet (nothing listening, a
//! broker booting, a peer that closed during the handshake) with the shared backoff until
//! `--wait` runs out, and stops at once on a permanent refusal (bad credentials, no such vhost,
//! not AMQP). amiquip is blocking: each attempt runs on a blocking thread of the runtime, and a
//! watchdog shuts its socket down at `--timeout`, so that no attempt outlives its bound. A
//! signal stops the waiting between attempts (an attempt in progress finishes: nothing is left
//! half-done); then the exit code is 130.

use std::io::Write;
use std::time::{Duration, Instant};

use amiquip::{
    AmqpValue, Confirm, ConsumerMessage, ConsumerOptions, Exchange, FieldTable, Publish,
};
use common::duration::duration;
use common::output::Out;
use common::probe::{Outcome, Passed, Probe, Refusal, check_all};
use tracing::debug;

use crate::broker::{TlsClient, Watchdog, confirm_mode, exclusive_queue, handshake};
use crate::consume::cancel;
use crate::error::Error;
use crate::url::AmqpUrl;

/// How much longer than `--timeout` the probe waits for an attempt that should have ended by
/// itself (its watchdog fires at `--timeout`).
const GRACE: Duration = Duration::from_secs(1);

/// What `ping` checks and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The nodes, as given (shown with their password redacted).
    pub targets: Vec<String>,
    /// `--connect-timeout`: TCP and the handshake.
    pub connect_timeout: Duration,
    /// `--timeout`: one whole attempt.
    pub timeout: Duration,
    /// `--wait`: keep trying for this long; `None`, one try.
    pub wait: Option<Duration>,
    /// `--json`: one object per node and line.
    pub json: bool,
    /// The TLS settings of `amqps://` targets (`None`: the system's roots).
    pub tls: Option<TlsClient>,
}

/// Checks every node, prints one line (or JSON object) per node; an error when any failed
/// (each failed node's line on stderr, the last one as the error).
pub fn run<W: Write>(options: &Options, out: &mut Out<W>) -> Result<(), Error> {
    let outcomes = check(options)?;
    let mut failed = Vec::new();
    for o in &outcomes {
        if options.json {
            out.line(format_args!("{}", o.json()))?;
        } else if o.ok() {
            out.line(format_args!("{}", o.line()))?;
        }
        if !o.ok() {
            failed.push(o.line());
        }
    }
    let interrupted = outcomes.iter().any(|o| o.interrupted);
    let Some(last) = failed.pop() else {
        return Ok(());
    };
    for line in failed {
        common::exit::say(&format!("error: {line}"));
    }
    Err(Error::Ping {
        line: last,
        interrupted,
    })
}

/// Every node's outcome, in the order given.
pub fn check(options: &Options) -> Result<Vec<Outcome>, Error> {
    let rt = common::runtime::build(1).map_err(Error::Runtime)?;
    let probe = Probe {
        wait: options.wait,
        timeout: options.timeout + GRACE,
    };
    let (connect_timeout, timeout) = (options.connect_timeout, options.timeout);
    let tls = options.tls.as_ref();
    let outcomes = rt.block_on(async {
        let stop = common::shutdown::install().map_err(Error::Signal)?;
        let attempt = |target: String| async move {
            let url = AmqpUrl::parse(&target).map_err(Refusal::failed)?;
            let tls = tls.cloned();
            tokio::task::spawn_blocking(move || {
                round_trip(&url, tls.as_ref(), connect_timeout, timeout)
            })
            .await
            .unwrap_or_else(|e| Err(Refusal::failed(format!("the check failed: {e}"))))
        };
        Ok::<_, Error>(check_all(&options.targets, probe, attempt, stop).await)
    });
    // An attempt cut at the end of --wait may still be running on its blocking thread: it must
    // not hold the exit up (its socket closes with the process, and its exclusive queue with
    // the socket).
    rt.shutdown_background();
    outcomes
}

/// One attempt against one node (blocking): connect, round trip, close, within `timeout`.
fn round_trip(
    url: &AmqpUrl,
    tls: Option<&TlsClient>,
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<Passed, Refusal> {
    let start = Instant::now();
    let (mut connection, socket) =
        handshake(url, tls, connect_timeout.min(timeout)).map_err(|e| refusal(&e))?;
    let watchdog = Watchdog::arm(socket, start + timeout).map_err(|e| {
        Refusal::not_ready(format!(
            "cannot watch the socket: {}",
            common::net::describe_io(&e)
        ))
    })?;
    let server = server(connection.server_properties());
    let exchanged = exchange(&mut connection, start + timeout);
    let closed = connection
        .close()
        .map_err(|e| Error::amqp("closing the connection", e));
    if watchdog.disarm() {
        return Err(Refusal::not_ready(format!(
            "no answer within {}",
            duration(timeout)
        )));
    }
    let round_trip = exchanged.map_err(|e| refusal(&e))?;
    closed.map_err(|e| refusal(&e))?;
    debug!(
        "{}: {server}, round trip {}",
        url.redacted(),
        duration(round_trip)
    );
    Ok(Passed { server, round_trip })
}

/// The round trip on an open connection: answers the time from the publish to the delivery.
fn exchange(connection: &mut amiquip::Connection, deadline: Instant) -> Result<Duration, Error> {
    let channel = connection
        .open_channel(None)
        .map_err(|e| Error::amqp("opening a channel", e))?;
    let queue = exclusive_queue(&channel)?;
    let confirms = confirm_mode(&channel)?;
    let consumer = queue
        .consume(ConsumerOptions {
            no_ack: true,
            ..ConsumerOptions::default()
        })
        .map_err(|e| Error::amqp(format!("consuming from queue '{}'", queue.name()), e))?;
    let body = format!("rabbit-ops ping {:032x}", rand::random::<u128>());
    let sent = Instant::now();
    Exchange::direct(&channel)
        .publish(Publish::new(body.as_bytes(), queue.name()))
        .map_err(|e| Error::amqp(format!("publishing to queue '{}'", queue.name()), e))?;
    let late = || Error::PingLate;
    match confirms.recv_deadline(deadline) {
        Ok(Confirm::Ack(_)) => {}
        Ok(Confirm::Nack(_)) => return Err(Error::PingNacked),
        Err(_) => return Err(late()),
    }
    let round_trip = match consumer.receiver().recv_deadline(deadline) {
        Ok(ConsumerMessage::Delivery(d)) if d.body == body.as_bytes() => sent.elapsed(),
        Ok(ConsumerMessage::Delivery(d)) => {
            return Err(Error::PingMismatch {
                got: String::from_utf8_lossy(&d.body).chars().take(64).collect(),
            });
        }
        Ok(
            ConsumerMessage::ServerClosedChannel(e) | ConsumerMessage::ServerClosedConnection(e),
        ) => {
            return Err(Error::amqp("waiting for the message", e));
        }
        Ok(_) => return Err(Error::ConnectionLost),
        Err(_) => return Err(late()),
    };
    cancel(consumer)?;
    channel
        .close()
        .map_err(|e| Error::amqp("closing the channel", e))?;
    Ok(round_trip)
}

/// `RabbitMQ 3.10.8`: the `product` and `version` of the server properties.
fn server(properties: &FieldTable) -> String {
    let text = |key: &str| match properties.get(key) {
        Some(AmqpValue::LongString(s)) => Some(s.clone()),
        Some(AmqpValue::ByteArray(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    };
    match (text("product"), text("version")) {
        (Some(p), Some(v)) => format!("{p} {v}"),
        (Some(p), None) => p,
        (None, Some(v)) => format!("an AMQP 0-9-1 broker, version {v}"),
        (None, None) => "an AMQP 0-9-1 broker".to_owned(),
    }
}

/// Why an attempt failed, and whether waiting may help.
fn refusal(e: &Error) -> Refusal {
    match e {
        Error::Connect {
            reason, permanent, ..
        } => Refusal {
            reason: reason.clone(),
            not_ready: !permanent,
        },
        e if e.is_connection_loss() => Refusal::not_ready(e.to_string()),
        Error::PingLate => Refusal::not_ready(e.to_string()),
        e => Refusal::failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_is_named_by_its_properties() {
        let mut p = FieldTable::new();
        assert_eq!(server(&p), "an AMQP 0-9-1 broker");
        p.insert("product".into(), AmqpValue::LongString("RabbitMQ".into()));
        assert_eq!(server(&p), "RabbitMQ");
        p.insert("version".into(), AmqpValue::LongString("3.10.8".into()));
        assert_eq!(server(&p), "RabbitMQ 3.10.8");
    }

    #[test]
    fn refusals_say_whether_waiting_helps() {
        let connect = |permanent| Error::Connect {
            url: "amqp://x".into(),
            reason: "why".into(),
            permanent,
        };
        let r = refusal(&connect(false));
        assert_eq!((r.reason.as_str(), r.not_ready), ("why", true));
        assert!(!refusal(&connect(true)).not_ready);
        assert!(refusal(&Error::ConnectionLost).not_ready);
        assert!(!refusal(&Error::PingNacked).not_ready);
    }
}
