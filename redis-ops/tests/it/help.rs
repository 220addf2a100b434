//! `--help` and `--version` of redis-ops, as a user reads them (no Redis needed).

/// The help and version of `bin`, checked as `test_support::check_help` describes.
fn check(bin: &str, name: &str, description: &str) {
    test_support::check_help(bin, name, description, env!("CARGO_PKG_VERSION"));
}

#[test]
fn redis_ops() {
    check(
        env!("CARGO_BIN_EXE_redis-ops"),
        "redis-ops",
        "Redis from Rust: set/get, a connection pool, every operation of the lesson, pub/sub.",
    );
}
