//! `--help` and `--version` of every poetry binary, as a user reads them.

/// The help and version of `bin`, checked as `test_support::check_help` describes.
fn check(bin: &str, name: &str, description: &str) {
    test_support::check_help(bin, name, description, env!("CARGO_PKG_VERSION"));
}

#[test]
fn poetry_server() {
    check(
        env!("CARGO_BIN_EXE_poetry-server"),
        "poetry-server",
        "Serve one poem file to every client that connects, then close the connection",
    );
}

#[test]
fn poetry_client() {
    check(
        env!("CARGO_BIN_EXE_poetry-client"),
        "poetry-client",
        "Download a poem from every address at once and print them on stdout",
    );
}

#[test]
fn poetry_transform() {
    check(
        env!("CARGO_BIN_EXE_poetry-transform"),
        "poetry-transform",
        "Serve poem transformations (the Twisted tutorial's transformedpoetry.py)",
    );
}

#[test]
fn poetry_proxy() {
    check(
        env!("CARGO_BIN_EXE_poetry-proxy"),
        "poetry-proxy",
        "Serve the poem of an upstream poetry server, fetched once and cached",
    );
}
