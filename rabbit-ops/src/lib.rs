//! RabbitMQ from Rust with amiquip: every RabbitMQ tutorial as one tool (notes §3).
//!
//! | tutorial | commands | module |
//! |---|---|---|
//! | 1 Hello World | `send`, `receive` | [`tutorials::hello_world`] |
//! | 2 Work queues | `new-task`, `worker` | [`tutorials::work_queues`] |
//! | 3 Publish/Subscribe | `emit-log`, `receive-logs` | [`tutorials::publish_subscribe`] |
//! | 4 Routing | `emit-log-direct`, `receive-logs-direct` | [`tutorials::routing`] |
//! | 5 Topics | `emit-log-topic`, `receive-logs-topic` | [`tutorials::topics`] |
//! | 6 RPC | `rpc-server`, `rpc-client` | [`tutorials::rpc`] |
//! | 7 Publisher confirms | `publisher-confirms` | [`tutorials::publisher_confirms`] |
//! | headers exchange | `emit-log-headers`, `receive-logs-headers` | [`tutorials::headers`] |
//! | throughput and latency | `bench` | [`bench`](mod@bench) |
//! | CI readiness | `ping` | [`ping`] |
//!
//! Each command is one file of [`cli`]: its arguments, their checks, and its run.
//!
//! amiquip is blocking: everything here runs on plain threads (amiquip's own I/O thread, the
//! Ctrl-C thread of [`stop::Stop`], and the caller's), never inside an async task.
//! Connections are made in one place, [`broker::Broker::connect`], and remade after a loss by
//! [`broker::Broker::reconnect`]: consumers through [`consume::recovering`], publishers through
//! [`publish::Publisher`] (confirms, republishing what was not confirmed).
//!
//! Every command starts from a broker URL; how one is read, and how it is shown in logs and
//! errors (the password never is). The commands themselves need a running RabbitMQ:
//! `rabbit-ops send`, `rabbit-ops receive`, docs/rabbit.md.
//!
//! ```
//! use rabbit_ops::url::AmqpUrl;
//!
//! let url = AmqpUrl::parse("amqp://app:s3cret@10.0.0.6:5673/%2fshop?heartbeat=30").unwrap();
//! assert_eq!((url.user.as_str(), url.host.as_str(), url.port), ("app", "10.0.0.6", 5673));
//! assert_eq!(url.vhost, "/shop"); // percent-decoded
//! assert_eq!(url.heartbeat, Some(30));
//! assert_eq!(url.redacted(), "amqp://app:***@10.0.0.6:5673/%2fshop?heartbeat=30");
//!
//! // RabbitMQ's defaults: guest/guest, port 5672, the virtual host "/".
//! let local = AmqpUrl::parse("amqp://localhost").unwrap();
//! assert_eq!((local.user.as_str(), local.port, local.vhost.as_str()), ("guest", 5672, "/"));
//! assert!(AmqpUrl::parse("http://localhost").is_err());
//! ```

pub mod bench;
pub mod broker;
pub mod cli;
pub mod consume;
pub mod error;
pub mod ping;
pub mod publish;
pub mod queues;
pub mod stop;
pub mod tutorials;
pub mod url;

pub use broker::{Broker, Session};
pub use consume::{Ended, Limits};
pub use error::Error;
pub use stop::Stop;
