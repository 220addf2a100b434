//! The echo crate's one integration test binary: a module per area.
//!
//! - `check`: `echo-client --wait`, `--json` and several addresses, the readiness check;
//! - `cli`: the binaries as a user runs them (output, exit codes, usage errors);
//! - `conventions`: the workspace's conventions, exactly: one-line errors, usage errors with
//!   the help line, a closed stdout;
//! - `limits`, `signals`, `deadlines` (issue 13): every count and size bounded, resources the
//!   machine refuses, SIGINT/SIGTERM (exit 130, what was done), peers that never answer;
//! - `rate` (issue 21): `echo-bench --rate`, a schedule held, a stalled server seen in the
//!   corrected latency and not in the service time;
//! - `server`: the server library on real sockets;
//! - `recipes`: the two recipe examples of docs/recipes.md;
//! - `help`: every binary's `--help` and `--version`.

mod check;
mod cli;
mod conventions;
mod deadlines;
mod help;
mod limits;
mod rate;
mod recipes;
mod server;
mod signals;
mod support;
