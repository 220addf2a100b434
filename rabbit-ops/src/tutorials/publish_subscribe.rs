//! Tutorial 3, "Publish/Subscribe": `emit-log` publishes log messages to the fanout exchange
//! `logs`, which hands every message to every queue bound to it, whatever the routing key; each
//! `receive-logs` binds a queue of its own and prints every message (` [x] info: Hello
//! World!`). The code is [`log_exchange`](super::log_exchange)'s, with
//! [`Kind::Fanout`](super::log_exchange::Kind::Fanout).

/// The tutorial's exchange (fanout).
pub const EXCHANGE: &str = "logs";
/// The tutorial's default message.
pub const MESSAGE: &str = "info: Hello World!";
