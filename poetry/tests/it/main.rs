//! The poetry crate's integration tests, one binary: real sockets, servers run in-process with
//! `run()` on port 0, and the real binaries (through `test_support`, every wait bounded).

mod bounds;
mod client;
mod errors;
mod help;
mod hostile;
mod proxy;
mod server;
mod server_cli;
mod signals;
mod support;
mod transform;
mod wait;
