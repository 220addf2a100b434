//! `--help` and `--version` of every echo binary, as a user reads them.

/// The help and version of `bin`, checked as `test_support::check_help` describes.
fn check(bin: &str, name: &str, description: &str) {
    test_support::check_help(bin, name, description, env!("CARGO_PKG_VERSION"));
}

#[test]
fn echo_server() {
    check(
        env!("CARGO_BIN_EXE_echo-server"),
        "echo-server",
        "Echo server: writes back every byte each client sends",
    );
}

#[test]
fn echo_client() {
    check(
        env!("CARGO_BIN_EXE_echo-client"),
        "echo-client",
        "Echo client: sends a message, waits until all of it has come back",
    );
}

#[test]
fn echo_bench() {
    check(
        env!("CARGO_BIN_EXE_echo-bench"),
        "echo-bench",
        "Echo benchmark: each connection sends a message",
    );
}
