//! Support for the workspace's tests (a dev-dependency only; never published).
//!
//! - [`Proc`]: a spawned binary whose stdout and stderr are read on background threads, line by
//!   line, with bounded waits for a line ([`Proc::first_line`], [`Proc::wait_for_line`]) and for
//!   the exit ([`Proc::finish`], which kills the binary and fails the test when it does not exit
//!   in time); [`run`] runs one to the end with some stdin. A `Proc` is killed when dropped.
//! - [`run_with_closed_stdout`], [`run_with_closed_stderr`], [`Proc::spawn_closed`]: the same
//!   with stdout or stderr a pipe its reader has already closed (`tool | head -c0`), to check
//!   that a binary neither panics nor stops serving there.
//! - [`refused_addr`], [`silent_listener`], [`addr_in`]: addresses for network failure tests.
//! - [`check_help`] and [`stdout_of`]: every binary's `--help` and `--version` checked the same
//!   way; [`check_tls_files`]: every TLS tool's refusal of a certificate or key file that is not
//!   a small regular file, checked the same way.
//! - [`PrivateRedis`] and [`RabbitNode`]: servers of the test's own, on ports of their own, with
//!   their data in temporary folders, killed when dropped. Their ports are never found by
//!   binding a port, noting it and releasing it (a parallel test could take it in between): the
//!   server itself binds a candidate port, and when that port turns out to be taken, it is started
//!   again on another one ([`PrivateRedis`] also checks that the server answering is its own
//!   child).
//! - [`TestPki`]: a CA, server and client certificates (and wrong ones) made with rcgen, for the
//!   TLS variants of those servers ([`PrivateRedis::start_tls`], [`RabbitNode::start_tls`],
//!   with [`ServerCert`] and [`ClientAuth`]).
//! - [`redis_url`], [`amqp_url`], [`require_redis`], [`require_rabbit`]: the shared services of
//!   `scripts/services up`. A test that needs one fails loudly when it is absent; it never passes
//!   without it.
//! - [`unique`]: names for keys and queues no other test (or test run) uses.
//! - [`rate`]: what the fixed-rate tests of every bench check of a run.
//!
//! Every wait here has a deadline: a test that hangs fails with what the process printed instead
//! of hanging CI. [`STEP`] is the default bound for one step of a test.
//!
//! The crate's own tests need `redis-server` and `rabbitmq-server` installed and the shared
//! services up (`scripts/services up`); the RabbitMQ node test boots three nodes, about 25 s on
//! the 2-core machine, so it is not ignored.

mod closed;
mod help;
mod limits;
mod net;
#[cfg(test)]
mod panics;
mod process;
mod rabbit;
pub mod rate;
mod redis_server;
mod services;
mod tls;

pub use closed::{Closed, run_with_closed_stderr, run_with_closed_stdout};
pub use help::{check_help, stdout_of};
pub use limits::without_threads;
pub use net::{addr_in, refused_addr, silent_listener};
pub use process::{Proc, Run, STEP, Signal, command, run, send_signal};
pub use rabbit::{ErlangHome, RabbitNode};
pub use redis_server::PrivateRedis;
pub use services::{
    amqp_url, redis_conn, redis_url, require_rabbit, require_redis, scan_keys, temp_file, unique,
};
pub use tls::{ClientAuth, MAX_PEM_FILE, ServerCert, TestPki, WRONG_NAME, check_tls_files};
