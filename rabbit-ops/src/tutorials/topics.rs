//! Tutorial 5, "Topics": `emit-log-topic` publishes each message with a routing key of
//! dot-separated words (`kern.critical`) to the topic exchange `topic_logs`; each
//! `receive-logs-topic` binds its queue with patterns over those words, `*` standing for exactly
//! one word and `#` for zero or more (`kern.*`, `*.critical`, `#`), and prints
//! ` [x] kern.critical:A critical kernel error`. The code is
//! [`log_exchange`](super::log_exchange)'s, with
//! [`Kind::Topic`](super::log_exchange::Kind::Topic).

/// The tutorial's exchange (topic).
pub const EXCHANGE: &str = "topic_logs";
/// The routing key of a message sent without one.
pub const ROUTING_KEY: &str = "anonymous.info";
/// The tutorial's default message.
pub const MESSAGE: &str = "Hello World!";
