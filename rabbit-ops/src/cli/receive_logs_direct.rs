//! `receive-logs-direct` (tutorial 4): its arguments, their checks and its run, as
//! `receive_logs_command!` declares them for a log exchange's receiver: the queue is bound once
//! per severity.

use super::consumer::receive_logs_command;
use crate::tutorials::log_exchange::Kind;
use crate::tutorials::routing;

receive_logs_command! {
    /// Tutorial 4: print the messages of the given severities from direct_logs.
    Args,
    "receive-logs-direct",
    Kind::Direct,
    "routing::EXCHANGE.to_owned()",
    " exchange (default direct_logs)",
    severities,
    " severities to receive: info, warning, error...",
    "no severity given: name the ones to receive, like info warning error"
}
