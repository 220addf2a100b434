//! `--help` and `--version` of rabbit-ops, as a user reads them (no broker needed).

/// The help and version of `bin`, checked as `test_support::check_help` describes.
fn check(bin: &str, name: &str, description: &str) {
    test_support::check_help(bin, name, description, env!("CARGO_PKG_VERSION"));
}

#[test]
fn rabbit_ops() {
    check(
        env!("CARGO_BIN_EXE_rabbit-ops"),
        "rabbit-ops",
        "Every RabbitMQ tutorial as one tool: hello world, work queues, publish/subscribe",
    );
}
