//! `--help` and `--version` of rabbit-ops, as a user reads them (no broker needed).

/// The help and version of `bin`, checked as `common::testing::check_help` describes.
fn check(bin: &str, name: &str, description: &str) {
    common::testing::check_help(bin, name, description, env!("CARGO_PKG_VERSION"));
}

#[test]
fn rabbit_ops() {
    check(
        env!("CARGO_BIN_EXE_rabbit-ops"),
        "rabbit-ops",
        "Every RabbitMQ tutorial as one tool: hello world, work queues, publish/subscribe",
    );
}
