//! The RabbitMQ tutorials, in their order, each with its own names and defaults (queue,
//! exchange, message), then what several of them share.
//!
//! | tutorial | module | commands |
//! |---|---|---|
//! | 1 "Hello World!" | [`hello_world`] | `send`, `receive` |
//! | 2 Work queues | [`work_queues`] | `new-task`, `worker` |
//! | 3 Publish/Subscribe | [`publish_subscribe`] | `emit-log`, `receive-logs` |
//! | 4 Routing | [`routing`] | `emit-log-direct`, `receive-logs-direct` |
//! | 5 Topics | [`topics`] | `emit-log-topic`, `receive-logs-topic` |
//! | 6 RPC | [`rpc`] | `rpc-server`, `rpc-client` |
//! | 7 Publisher confirms | [`publisher_confirms`] | `publisher-confirms` |
//! | the headers exchange (beyond the tutorials) | [`headers`] | `emit-log-headers`, `receive-logs-headers` |
//!
//! Shared: [`log_exchange`], an exchange and the receivers' own bound queues (tutorials 3-5 and
//! the headers exchange); the tutorials' named queues (`hello`, `task_queue`, `rpc_queue`) are
//! declared by [`crate::queues`].

// 1
pub mod hello_world;

// 2
pub mod work_queues;

// 3
pub mod publish_subscribe;

// 4
pub mod routing;

// 5
pub mod topics;

// 6
pub mod rpc;

// 7
pub mod publisher_confirms;

// Beyond the tutorials.
pub mod headers;

// Shared by 3, 4, 5 and the headers exchange.
pub mod log_exchange;
