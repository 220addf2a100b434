//! The one error type of the crate: every variant names what the user did or what failed, and
//! says what to do about it where there is something to do.

use std::fmt;
use std::time::Duration;

use common::duration::Short;
use common::exit::{ExitStatus, FAILURE, INTERRUPTED, USAGE};
use common::output::PrintError;

/// Everything that can go wrong in `rabbit-ops`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A usage mistake the argument parser cannot see (missing binding keys, `--size 8`...):
    /// printed as `error: <what>`, then where the help of `command` (else the tool's) is.
    #[error("{what}")]
    Usage {
        /// What is wrong, without any prefix.
        what: String,
        /// The subcommand whose `--help` explains it.
        command: Option<&'static str>,
    },

    /// The `--url` (or `$AMQP_URL`) is not an AMQP URL we can use.
    #[error("bad AMQP URL '{url}': {reason}")]
    BadUrl {
        /// The URL, password already redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// No AMQP connection: TCP refused or timed out, handshake refused or silent.
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The URL, password already redacted.
        url: String,
        /// Why, with what to do when there is something to do.
        reason: String,
        /// Waiting will not help (bad credentials, no such vhost, not AMQP); `false` for what
        /// may pass (refused, silent, a node booting).
        permanent: bool,
    },

    /// A queue or exchange exists with other settings (RabbitMQ's PRECONDITION_FAILED).
    #[error(
        "{kind} '{name}' already exists with other settings ({detail}): delete it ({how}) \
         or pick another name with --{flag}"
    )]
    Redeclare {
        /// `queue` or `exchange`.
        kind: &'static str,
        /// Its name.
        name: String,
        /// RabbitMQ's explanation (`inequivalent arg 'durable' ...`).
        detail: String,
        /// A command that deletes it.
        how: String,
        /// The option that picks another name.
        flag: &'static str,
    },

    /// A tutorial queue exists as the other generation's (classic vs today's quorum).
    #[error("queue '{name}' exists as {existing}: {hint}, or delete it")]
    OtherGeneration {
        /// The queue.
        name: String,
        /// What it is: `a classic queue`, `a quorum queue`...
        existing: &'static str,
        /// `run with --classic` or `run without --classic`.
        hint: &'static str,
    },

    /// Any other failure reported by the broker or by amiquip.
    #[error("{doing}: {}", describe(.cause))]
    Amqp {
        /// What we were doing (`declaring queue 'hello'`).
        doing: String,
        /// amiquip's error, described in the message (not chained: its own text is terser).
        cause: Box<amiquip::Error>,
    },

    /// `--timeout`: nothing arrived in time.
    #[error("no message within {} (received {received} before)", Short(*.waited))]
    Idle {
        /// The `--timeout`.
        waited: Duration,
        /// Messages handled before the silence.
        received: u64,
    },

    /// The broker cancelled our consumer (its queue was deleted).
    #[error("the broker cancelled the consumer of queue '{queue}' (was the queue deleted?)")]
    Cancelled {
        /// The queue consumed from.
        queue: String,
    },

    /// The connection ended without saying why.
    #[error("the connection to the broker was lost")]
    ConnectionLost,

    /// `rpc-client`: no answer in time.
    #[error(
        "no answer to fib({n}) within {} on queue '{queue}': is rpc-server running?",
        Short(*.waited)
    )]
    RpcTimeout {
        /// The request.
        n: String,
        /// The queue the request went to.
        queue: String,
        /// The `--timeout`.
        waited: Duration,
    },

    /// `rpc-client`: the request was unroutable (no queue of that name).
    #[error("no queue '{queue}' takes the request: start rpc-server (or pass its --queue) first")]
    RpcUnroutable {
        /// The queue the request went to.
        queue: String,
    },

    /// `rpc-client`: the server answered an error.
    #[error("the server refused fib({n}): {reason}")]
    RpcRefused {
        /// The request.
        n: String,
        /// The server's explanation.
        reason: String,
    },

    /// `rpc-client`: the answer is not an integer (nor a refusal from `rabbit-ops rpc-server`).
    #[error("an answer the client cannot read for fib({n}): '{answer}' is not an integer")]
    RpcUnreadable {
        /// The request.
        n: String,
        /// The answer (its start).
        answer: String,
    },

    /// `publisher-confirms`: confirms missing at the deadline.
    #[error("{missing} of {published} messages not confirmed within {} ({strategy})", Short(*.waited))]
    ConfirmTimeout {
        /// Which strategy.
        strategy: &'static str,
        /// Messages still unconfirmed.
        missing: usize,
        /// Messages published.
        published: u64,
        /// The deadline.
        waited: Duration,
    },

    /// `publisher-confirms`: the broker refused (nack-ed) messages.
    #[error("the broker nack-ed {nacked} of {published} messages (listed above)")]
    Nacked {
        /// Messages nack-ed over all strategies.
        nacked: usize,
        /// Messages published over all strategies.
        published: u64,
    },

    /// None of several brokers (`--url` given more than once) took the connection.
    #[error("cannot connect to any of {tried} brokers: {reasons}")]
    ConnectAll {
        /// How many URLs were tried.
        tried: usize,
        /// Each URL's failure, `; `-separated (passwords redacted).
        reasons: String,
    },

    /// The connection was lost and did not come back in time.
    #[error("gave up reconnecting after {}: {last}", Short(*.after))]
    GaveUp {
        /// How long we kept trying (`--retry-for`).
        after: Duration,
        /// The last attempt's failure.
        last: String,
    },

    /// Confirmed publishing: some messages were refused or came back (each listed above).
    #[error(
        "{} of {published} messages not delivered: {nacked} nack-ed by the broker, {returned} \
         returned as unroutable (listed above)",
        .nacked + .returned
    )]
    NotDelivered {
        /// Messages published (each counted once, however often it was republished).
        published: u64,
        /// Messages the broker nack-ed.
        nacked: usize,
        /// Messages the broker returned (mandatory, no queue bound).
        returned: usize,
    },

    /// Confirmed publishing: confirms still missing at the deadline.
    #[error("{missing} of {published} messages not confirmed within {}", Short(*.waited))]
    Unconfirmed {
        /// Messages still unconfirmed.
        missing: usize,
        /// Messages published.
        published: u64,
        /// `--retry-for`.
        waited: Duration,
    },

    /// `bench`: messages published but never received.
    #[error("{lost} of {messages} messages lost")]
    Lost {
        /// Sequence numbers never received.
        lost: u64,
        /// Messages published.
        messages: u64,
    },

    /// A line of stdin (`--stdin`) is longer than a message may be.
    #[error(
        "line {number} of stdin is over {max} bytes (RabbitMQ's largest message is 128 MiB by \
         default)"
    )]
    LineTooLong {
        /// Its number (1 for the first line).
        number: u64,
        /// The bound.
        max: usize,
    },

    /// Reading messages from stdin (`--stdin`) failed.
    #[error("cannot read messages from stdin")]
    Input(#[source] std::io::Error),

    /// Printing failed: the reader closed stdout (a printing command then ends quietly, exit 0)
    /// or another write error.
    #[error("{0}")]
    Output(#[from] PrintError),

    /// A producer whose stdout was closed stopped: what it did not send.
    #[error("standard output was closed: {sent} sent, {left} not sent")]
    NotSent {
        /// Messages sent (and confirmed, with confirms) before stopping.
        sent: u64,
        /// Messages not sent.
        left: Left,
    },

    /// `ping`: the message did not come back before the deadline.
    #[error("the message did not come back in time")]
    PingLate,

    /// `ping`: the broker refused (nack-ed) the message.
    #[error("the broker nack-ed the message (it could not take it)")]
    PingNacked,

    /// `ping`: another body came back than the one sent.
    #[error("another message came back than the one sent: '{got}'")]
    PingMismatch {
        /// What came back (its start).
        got: String,
    },

    /// The async runtime (for `ping`) could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),

    /// `ping`: a target did not pass (the line names it and says why).
    #[error("{line}")]
    Ping {
        /// The target's report line.
        line: String,
        /// A signal ended the waiting (exit 130).
        interrupted: bool,
    },

    /// A thread could not be started (the machine's limit on threads or memory).
    #[error("cannot start a thread for {what}: {cause}")]
    Spawn {
        /// Which thread (`consumer 17 of 1000`).
        what: String,
        /// The system's refusal.
        cause: std::io::Error,
    },

    /// The broker did not answer a request within `--connect-timeout`.
    #[error("the broker did not answer {doing} within {}", Short(*.waited))]
    Stalled {
        /// The request (`opening a channel`, `declaring queue 'hello'`).
        doing: String,
        /// `--connect-timeout`.
        waited: Duration,
    },

    /// SIGINT/SIGTERM cut a run short (exit 130): what it did so far.
    #[error("interrupted: {what}")]
    Interrupted {
        /// What was done before (`bench: 1200 of 100000 messages published...`).
        what: String,
    },

    /// The Ctrl-C handler could not be installed.
    #[error("cannot install the Ctrl-C handler")]
    Signal(#[source] std::io::Error),
}

/// How many messages a producer did not send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    /// This many.
    Exactly(u64),
    /// At least this many: stdin was still open when counting stopped.
    AtLeast(u64),
}

impl Left {
    /// Nothing was left.
    pub fn is_none(self) -> bool {
        self == Left::Exactly(0)
    }
}

impl fmt::Display for Left {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Left::Exactly(n) => write!(f, "{n}"),
            Left::AtLeast(n) => write!(f, "at least {n} (stdin still open)"),
        }
    }
}

impl ExitStatus for Error {
    fn exit_code(&self) -> u8 {
        match self {
            Error::Usage { .. } | Error::BadUrl { .. } => USAGE,
            Error::Ping {
                interrupted: true, ..
            }
            | Error::Interrupted { .. } => INTERRUPTED,
            _ => FAILURE,
        }
    }
}

impl Error {
    /// Whether this is the connection going away (the broker restarted or stopped, the socket
    /// closed, heartbeats missed): what a recovering consumer or publisher reconnects after.
    pub fn is_connection_loss(&self) -> bool {
        match self {
            Error::ConnectionLost => true,
            // A connection the broker closed with a 4xx/5xx reply code (a frame it cannot
            // decode, a hard error) refuses what we sent: trying again sends it again. 320
            // (CONNECTION_FORCED: a node shutting down) is a loss.
            Error::Amqp { cause, .. } => matches!(
                **cause,
                amiquip::Error::ServerClosedConnection { code: ..400, .. }
                    | amiquip::Error::EventLoopDropped
                    | amiquip::Error::EventLoopClientDropped
                    | amiquip::Error::UnexpectedSocketClose
                    | amiquip::Error::IoErrorReadingSocket { .. }
                    | amiquip::Error::IoErrorWritingSocket { .. }
                    | amiquip::Error::MissedServerHeartbeats
                    | amiquip::Error::ClientClosedConnection
            ),
            _ => false,
        }
    }

    /// A usage error, explained by `command --help`.
    pub fn usage(command: &'static str, what: impl Into<String>) -> Self {
        Error::Usage {
            what: what.into(),
            command: Some(command),
        }
    }

    /// Wraps an amiquip error with what we were doing.
    pub fn amqp(doing: impl Into<String>, cause: amiquip::Error) -> Self {
        Error::Amqp {
            doing: doing.into(),
            cause: Box::new(cause),
        }
    }
}

/// amiquip's error, in words a user can act on where we know them.
fn describe(e: &amiquip::Error) -> String {
    match e {
        amiquip::Error::ServerClosedChannel { code, message, .. } => {
            format!("the broker closed the channel: {message} (code {code})")
        }
        amiquip::Error::ServerClosedConnection { code, message } => {
            format!("the broker closed the connection: {message} (code {code})")
        }
        amiquip::Error::MissedServerHeartbeats => {
            "the broker stopped answering (missed heartbeats)".to_owned()
        }
        amiquip::Error::EventLoopDropped | amiquip::Error::EventLoopClientDropped => {
            "the connection to the broker was lost".to_owned()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_exit_2_and_runtime_is_exit_1() {
        assert_eq!(Error::usage("send", "x").exit_code(), USAGE);
        assert_eq!(
            Error::BadUrl {
                url: "x".into(),
                reason: "y".into()
            }
            .exit_code(),
            USAGE
        );
        assert_eq!(Error::ConnectionLost.exit_code(), FAILURE);
    }
}
