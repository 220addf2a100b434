//! `--help` and `--version` of every poetry binary, as a user reads them.

use super::support::{CLIENT, PROXY, SERVER, TRANSFORM};

/// Each binary with the start of its description, checked as `test_support::check_help`
/// describes (the name is the binary's file name).
#[test]
fn every_binary() {
    for (bin, description) in [
        (
            SERVER,
            "Serve one poem file to every client that connects, then close the connection",
        ),
        (
            CLIENT,
            "Download a poem from every address at once and print them on stdout",
        ),
        (
            TRANSFORM,
            "Serve poem transformations (the Twisted tutorial's transformedpoetry.py)",
        ),
        (
            PROXY,
            "Serve the poem of an upstream poetry server, fetched once and cached",
        ),
    ] {
        let name = bin.rsplit('/').next().unwrap();
        test_support::check_help(bin, name, description, env!("CARGO_PKG_VERSION"));
    }
}
