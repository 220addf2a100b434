//! Echo: a TCP/UDP echo server, client and load generator (notes §1.5).
//!
//! The notes' first lesson is Twisted's echo server (port 1234, it writes back whatever it
//! receives) and a client that sends `hello alex!` and prints `Server said: ...`. This crate holds
//! the logic of the three binaries:
//!
//! - [`server::run`] (TCP, on the workspace's accept loop [`common::net::serve()`]) and
//!   [`server::run_udp`]: the echo server, `echo-server`;
//! - [`client`]: one echo, or stdin streamed like `nc`, `echo-client`;
//! - [`bench`](mod@bench): a closed-loop ping-pong load generator, `echo-bench`;
//! - [`check`]: the readiness check of `echo-client --wait` and `--json` (issue 15): a random
//!   line there and back, for [`common::probe::check_all`];
//! - [`cli`]: the three command lines, checked and run (the binaries are a few lines each).
//!
//! The notes' exchange, in a few lines: a server on a free port of 127.0.0.1, one echo of
//! `hello alex!`, then the server is told to stop and reports what it did.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), echo::Error> {
//! use std::time::Duration;
//!
//! let listener = common::net::bind("127.0.0.1:0".parse().unwrap())?;
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
pub mod check;
pub mod cli;
pub mod client;
mod error;
pub mod server;

pub use error::Error;

/// Runs `work` to its end, unless `stop` (SIGINT or SIGTERM, from [`common::shutdown::install`])
/// resolves first: then `work` is dropped and the signal returned.
pub(crate) async fn or_signal<T>(
    work: impl std::future::Future<Output = T>,
    stop: impl std::future::Future<Output = common::shutdown::Signal>,
) -> Result<T, common::shutdown::Signal> {
    tokio::select! {
        t = work => Ok(t),
        signal = stop => Err(signal),
    }
}
