//! RabbitMQ Streams (issue 20): the two stream tutorials of rabbitmq-tutorials (`rust-stream/`,
//! `python-stream/`) as commands, with the RabbitMQ team's Rust stream client
//! (`rabbitmq-stream-client`, on tokio). amiquip stays for AMQP 0-9-1; streams speak their own
//! binary protocol on their own port (5552, 5551 with TLS), served by the `rabbitmq_stream`
//! plugin.
//!
//! | tutorial | commands | module |
//! |---|---|---|
//! | 1 Hello World | `stream-send`, `stream-receive` | [`hello_world`] |
//! | 2 Offset tracking | `offset-tracking-send`, `offset-tracking-receive` | [`offset_tracking`] |
//!
//! Every connection goes through [`connect::Endpoint`]: our own check of the peer first
//! ([`probe`]: the client itself has no deadline and trusts whatever a peer sends), then the
//! client, each step within `--connect-timeout`. The client is pinned to 0.4.4, the newest that
//! works with RabbitMQ 3.10 (later ones send a command 3.10 does not know on every connection).
//!
//! ```
//! use rabbit_ops::streams::url::StreamUrl;
//!
//! let url = StreamUrl::parse("rabbitmq-stream://app:s3cret@10.0.0.6/%2fshop").unwrap();
//! assert_eq!((url.host.as_str(), url.port, url.vhost.as_str()), ("10.0.0.6", 5552, "/shop"));
//! assert_eq!(url.to_string(), "rabbitmq-stream://app:***@10.0.0.6/%2fshop");
//! assert_eq!(StreamUrl::parse("rabbitmq-stream+tls://h").unwrap().port, 5551);
//! ```

pub mod connect;
pub mod consume;
pub mod error;
pub mod hello_world;
pub mod offset_tracking;
pub mod ping;
pub mod probe;
pub mod url;

pub use connect::{Endpoint, StreamTls};
pub use error::StreamError;
pub use url::StreamUrl;

use crate::error::Error;

/// The longest stream or consumer name: stream names are queue names (AMQP short strings), and
/// the broker refuses a consumer reference over 255 bytes.
pub const MAX_NAME: usize = 255;

/// The runtime the stream client runs on (one thread), and `work` on it; the client's
/// background tasks (heartbeats) end with it.
pub fn block_on<T>(work: impl AsyncFnOnce() -> Result<T, Error>) -> Result<T, Error> {
    let rt = common::runtime::build(1).map_err(Error::Runtime)?;
    let result = rt.block_on(work());
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    result
}
