//! `--help` and `--version` of every echo binary, as a user reads them.

use super::support::{BENCH, CLIENT, SERVER};

/// Each binary with the start of its description, checked as `test_support::check_help`
/// describes (the name is the binary's file name).
#[test]
fn every_binary() {
    for (bin, description) in [
        (
            SERVER,
            "Echo server: writes back every byte each client sends",
        ),
        (
            CLIENT,
            "Echo client: sends a message, waits until all of it has come back",
        ),
        (BENCH, "Echo benchmark: each connection sends a message"),
    ] {
        let name = bin.rsplit('/').next().unwrap();
        test_support::check_help(bin, name, description, env!("CARGO_PKG_VERSION"));
    }
}
