//! `receive-logs-topic` (tutorial 5): its arguments, their checks and its run, as
//! `receive_logs_command!` declares them for a log exchange's receiver: the queue is bound once
//! per pattern.

use super::consumer::receive_logs_command;
use crate::tutorials::log_exchange::Kind;
use crate::tutorials::topics;

receive_logs_command! {
    /// Tutorial 5: print the messages of topic_logs matching the binding keys (* one word, # any).
    Args,
    "receive-logs-topic",
    Kind::Topic,
    "topics::EXCHANGE.to_owned()",
    " exchange (default topic_logs)",
    binding_keys,
    " binding keys, like kern.* or *.critical or #",
    "no binding key given: name at least one, like kern.* or *.critical or #"
}
