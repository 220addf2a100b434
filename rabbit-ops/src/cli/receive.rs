//! `receive` (tutorial 1): its arguments, their checks and its run, as `queue_consumer!`
//! declares them for a tutorial queue's consumer.

use super::consumer::queue_consumer;
use crate::tutorials::hello_world;

queue_consumer! {
    /// Tutorial 1: print the messages of the queue hello.
    #[argh(
        subcommand,
        name = "receive",
        note = "Differs from today's receive.py: each message is acknowledged after it is printed (automatic acks there), so --count and a closed stdout lose nothing; Ctrl-C prints nothing (receive.py prints Interrupted). --classic: the queue as declared before 2026 (classic, non-durable)."
    )]
    Args,
    "hello_world::QUEUE.to_owned()",
    " queue (default hello)",
    " exit 0 after N messages",
    " exit 1 when no message arrives for SECS seconds",
    consumed by hello_world::receive
}
