//! What can go wrong with a stream, in words that say what to do. A [`StreamError`] travels as
//! [`crate::Error::Stream`]; the failures the stream commands share with the queue commands
//! (`--timeout`, Ctrl-C, a closed stdout) are the crate's own variants.

use std::time::Duration;

use common::duration::Short;
use common::exit::{ExitStatus, FAILURE, USAGE};

/// A stream command's failure.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The URL is not a stream URL we can use (exit 2).
    #[error("bad stream URL '{url}': {reason}")]
    BadUrl {
        /// The URL, password redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// No stream connection: refused, silent, not a stream broker, refused credentials...
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The URL, password redacted.
        url: String,
        /// Why, and what to do.
        reason: String,
        /// Waiting will not help (bad credentials, no such vhost, not a stream port).
        permanent: bool,
    },

    /// The node that holds the stream advertises an address this machine cannot reach.
    #[error(
        "the broker advertises {advertised} for stream '{stream}', which cannot be reached from \
         here ({reason}): set stream.advertised_host and stream.advertised_port in the broker's \
         rabbitmq.conf to an address its clients can reach (behind Docker or NAT: the published \
         host and port)"
    )]
    Advertised {
        /// The stream.
        stream: String,
        /// `host:port` as the broker advertises it.
        advertised: String,
        /// What connecting to it did.
        reason: String,
    },

    /// The name is taken by a classic or quorum queue.
    #[error(
        "'{name}' is a classic or quorum queue, not a stream: pick another name with --stream, \
         or delete the queue (rabbitmqctl delete_queue '{name}')"
    )]
    NotAStream {
        /// The name.
        name: String,
    },

    /// The stream does not exist (deleted while we worked).
    #[error("stream '{name}' does not exist")]
    NoSuchStream {
        /// The stream.
        name: String,
    },

    /// The broker answered a request with an error code.
    #[error("{doing}: the broker answered {code}")]
    Refused {
        /// The request (`creating stream 'x'`).
        doing: String,
        /// Its response code, in words.
        code: String,
    },

    /// The connection failed during a request.
    #[error("{doing}: {cause}")]
    Failed {
        /// The request.
        doing: String,
        /// The client's error, in words.
        cause: String,
    },

    /// No answer in time.
    #[error("the broker did not answer {doing} within {}", Short(*.waited))]
    Stalled {
        /// The request.
        doing: String,
        /// The deadline.
        waited: Duration,
    },

    /// Confirmations missing at the deadline.
    #[error("{missing} of {published} messages not confirmed within {}", Short(*.waited))]
    Unconfirmed {
        /// Still unconfirmed.
        missing: u64,
        /// Published.
        published: u64,
        /// The deadline.
        waited: Duration,
    },

    /// The broker refused messages (a publish error instead of a confirm).
    #[error("the broker refused {refused} of {published} messages ({code})")]
    NotStored {
        /// Refused.
        refused: u64,
        /// Published.
        published: u64,
        /// The first refusal's code, in words.
        code: String,
    },

    /// The connection closed while consuming.
    #[error(
        "the stream connection closed while consuming stream '{stream}' (received {received}): \
         the broker went away, or a message was not AMQP 1.0 (the stream client cannot decode \
         raw bodies, such as those rstream publishes from bytes)"
    )]
    ConsumerClosed {
        /// The stream.
        stream: String,
        /// Messages received before.
        received: u64,
    },

    /// A check of ours found what should not be (`ping`: another body came back).
    #[error("{0}")]
    Check(String),
}

impl ExitStatus for StreamError {
    fn exit_code(&self) -> u8 {
        match self {
            StreamError::BadUrl { .. } => USAGE,
            _ => FAILURE,
        }
    }
}

impl StreamError {
    /// Whether waiting may help (`ping --wait`): a refused or silent port, a node booting.
    pub fn is_transient(&self) -> bool {
        match self {
            StreamError::Connect { permanent, .. } => !permanent,
            StreamError::Stalled { .. }
            | StreamError::Failed { .. }
            | StreamError::ConsumerClosed { .. } => true,
            _ => false,
        }
    }
}
