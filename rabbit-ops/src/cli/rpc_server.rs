//! `rpc-server` (tutorial 6): its arguments, their checks and its run, as `queue_consumer!`
//! declares them for a tutorial queue's consumer.

use super::consumer::queue_consumer;
use crate::tutorials::rpc;

queue_consumer! {
    /// Tutorial 6: answer fib(n) requests from the queue rpc_queue.
    #[argh(
        subcommand,
        name = "rpc-server",
        note = "Differs from the official rpc_server.py: fib is computed iteratively in arbitrary precision, for n up to 20000 (4,180 digits); a request it cannot serve (not a whole number, negative, over 20000) is answered 'error: <why>' instead of crashing the server."
    )]
    Args,
    "rpc::QUEUE.to_owned()",
    " queue (default rpc_queue)",
    " exit 0 after N requests",
    " exit 1 when no request arrives for SECS seconds",
    consumed by rpc::server
}
