//! Echo: a TCP/UDP echo server, client and load generator (notes §1.5).
//!
//! The notes' first lesson is Twisted's echo server (port 1234, it writes back whatever it
//! receives) and a client that sends `hello alex!` and prints `Server said: ...`. This crate holds
//! the logic of the three binaries:
//!
//! - [`server::run`] (TCP) and [`server::run_udp`]: the echo server, `echo-server`;
//! - [`client`]: one echo, or stdin streamed like `nc`, `echo-client`;
//! - [`bench`](mod@bench): a closed-loop ping-pong load generator, `echo-bench`.
//!
//! The notes' exchange, in a few lines: a server on a free port of 127.0.0.1, one echo of
//! `hello alex!`, then the server is told to stop and reports what it did.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), echo::Error> {
//! use std::time::Duration;
//!
//! let listener = echo::server::bind("127.0.0.1:0".parse().unwrap())?;
//! let addr = listener.local_addr().unwrap();
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = tokio::spawn(echo::server::run(
//!     listener,
//!     echo::server::Config::default(),
//!     stopped, // the shutdown signal: any future; here, a message from this code
//! ));
//!
//! let echoed = echo::client::echo_once(addr, b"hello alex!", Duration::from_secs(5)).await?;
//! assert_eq!(echoed, b"hello alex!");
//!
//! stop.send(()).unwrap();
//! let stats = server.await.unwrap()?;
//! assert_eq!(stats.connections, 1);
//! assert_eq!(
//!     stats.summary(false),
//!     "echo-server: stopped; 1 connection served, 11 bytes echoed"
//! );
//! # Ok(()) }
//! ```

pub mod bench;
pub mod client;
mod error;
pub mod server;

pub use error::Error;

use std::time::Duration;

/// Parses a duration in seconds as given on a command line: `10`, `0.5`, `2.25`.
///
/// Refuses negative, non-finite and absurdly large values (more than a year).
pub fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("'{text}' is not a number of seconds"));
    }
    if secs > 366.0 * 24.0 * 3600.0 {
        return Err(format!("'{text}' seconds is more than a year"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Raises this process's soft limit on open files towards `wanted` (never above the hard limit)
/// and returns the limit now in force. A server holding 10,000 connections needs more than the
/// usual soft limit of 1024 descriptors.
pub fn raise_fd_limit(wanted: u64) -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds() {
        assert_eq!(parse_secs("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_secs("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_secs("0"), Ok(Duration::ZERO));
        for bad in ["", "-1", "abc", "NaN", "inf", "1e300"] {
            assert!(parse_secs(bad).is_err(), "{bad}");
        }
    }
}
