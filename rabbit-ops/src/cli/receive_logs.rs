//! `receive-logs` (tutorial 3): its arguments, their checks and its run, as
//! `receive_logs_command!` declares them for a log exchange's receiver.

use super::consumer::receive_logs_command;
use crate::tutorials::log_exchange::Kind;
use crate::tutorials::publish_subscribe;

receive_logs_command! {
    /// Tutorial 3: print every message of the fanout exchange logs.
    Args,
    "receive-logs",
    Kind::Fanout,
    "publish_subscribe::EXCHANGE.to_owned()",
    " exchange (default logs)"
}
