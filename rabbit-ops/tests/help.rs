//! `--help` and `--version` of rabbit-ops, as a user reads them (no broker needed).

use std::process::Command;

/// Runs `bin args`, expects exit 0 and nothing on stderr, returns stdout.
fn stdout_of(bin: &str, args: &[&str]) -> String {
    let out = Command::new(bin)
        .args(args)
        .output()
        .expect("run the binary");
    assert_eq!(out.status.code(), Some(0), "{bin} {args:?}: {out:?}");
    assert!(out.stderr.is_empty(), "{bin} {args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The help starts with the usage line, has the description paragraph and an Examples section
/// with at least two commands; `--version` is `<name> <version>`.
fn check(bin: &str, name: &str, description: &str) {
    let help = stdout_of(bin, &["--help"]);
    assert!(help.starts_with(&format!("Usage: {name} ")), "{help}");
    assert!(help.contains(&format!("\n\n{description}")), "{help}");
    let examples = help
        .split("\n\nExamples:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no Examples section:\n{help}"));
    let examples = examples.split("\n\n").next().unwrap_or_default();
    let commands = examples
        .lines()
        .filter(|l| l.trim_start().starts_with("$ ") && l.contains(name))
        .count();
    assert!(commands >= 2, "fewer than two example commands:\n{help}");
    assert_eq!(
        stdout_of(bin, &["--version"]),
        format!("{name} {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn rabbit_ops() {
    check(
        env!("CARGO_BIN_EXE_rabbit-ops"),
        "rabbit-ops",
        "Every RabbitMQ tutorial as one tool: hello world, work queues, publish/subscribe",
    );
}
