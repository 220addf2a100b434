//! Pieces every lesson binary shares: address parsing ([`addr`]), the two ends of `main`
//! (arguments in, the exit code and the one-line error report out: [`cli`]), logging set-up
//! ([`logging`]), the shutdown signal ([`shutdown`]), exit codes ([`exit`]), a file the user
//! named ([`file`](mod@file)), open-file limits ([`limits`]), secret redaction ([`redact`]),
//! the one runtime builder ([`runtime`]), the one reconnect backoff ([`retry`]), listeners, the
//! shared accept loop and I/O errors in words ([`net`]), the life of a server binary
//! ([`server`]), durations in words ([`duration`]), the stdout writer ([`output`]), readiness
//! checks ([`probe`]), the TLS options ([`tls`]), and what every bench measures alike: load at
//! a fixed rate ([`schedule`]), two latencies in HDR histograms ([`latency`]) and the live line
//! ([`progress`]).
//!
//! No module imports one that imports it back: [`exit`] is a leaf every error type reaches, and
//! the modules that put the pieces together ([`cli`], [`server`], [`probe`]) sit on top.
//!
//! ```
//! use common::addr::{parse_connect_addr, parse_listen_addr};
//!
//! // The notes' rule: a bare port means 127.0.0.1.
//! assert_eq!(parse_connect_addr("9000").unwrap().to_string(), "127.0.0.1:9000");
//! // Servers may listen on port 0 (a free port); clients may not connect to it.
//! assert!(parse_listen_addr("0").is_ok());
//! assert_eq!(
//!     parse_connect_addr("localhost:nine").unwrap_err().to_string(),
//!     "bad address 'localhost:nine': Ports must be integers."
//! );
//! assert_eq!(
//!     common::redact::redact_url("redis://user:pw@h:6379/0"),
//!     "redis://user:***@h:6379/0"
//! );
//! ```

pub mod addr;
pub mod cli;
pub mod duration;
pub mod exit;
pub mod file;
pub mod latency;
pub mod limits;
pub mod logging;
pub mod net;
pub mod output;
pub mod probe;
pub mod progress;
pub mod redact;
pub mod retry;
pub mod runtime;
pub mod schedule;
pub mod server;
pub mod shutdown;
pub mod tls;

pub use addr::{AddrError, parse_connect_addr, parse_connect_addr_within, parse_listen_addr};
pub use cli::report;
pub use exit::{ExitStatus, Failure};
