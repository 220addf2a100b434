//! Tutorial 4, "Routing": `emit-log-direct` publishes each message with its severity as the
//! routing key to the direct exchange `direct_logs`, which hands it to the queues bound with that
//! very key; each `receive-logs-direct` binds its queue once per severity it wants and prints
//! ` [x] error:Run. Run. Or it will explode.`. The code is
//! [`log_exchange`](super::log_exchange)'s, with
//! [`Kind::Direct`](super::log_exchange::Kind::Direct).

/// The tutorial's exchange (direct).
pub const EXCHANGE: &str = "direct_logs";
/// The severity (routing key) of a message sent without one.
pub const SEVERITY: &str = "info";
/// The tutorial's default message.
pub const MESSAGE: &str = "Hello World!";
