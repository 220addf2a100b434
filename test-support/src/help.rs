//! Every binary's `--help` and `--version`, checked the same way.

use std::process::Command;

use crate::process::{STEP, run};

/// Runs `bin args` (within [`STEP`]), expects exit 0 and nothing on stderr, returns stdout.
///
/// # Panics
/// When the binary cannot run, does not exit in time, fails, writes to stderr or prints
/// something that is not UTF-8.
pub fn stdout_of(bin: &str, args: &[&str]) -> String {
    let out = run(Command::new(bin).args(args), b"", STEP);
    assert_eq!(out.code(), Some(0), "{bin} {args:?}: {out:?}");
    assert!(out.stderr.is_empty(), "{bin} {args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Checks that `bin --help` starts with the usage line of `name`, has the `description`
/// paragraph and an Examples section with at least two `$ name ...` commands, and that
/// `bin --version` prints `<name> <version>`.
///
/// # Panics
/// On the first of those that does not hold, with the help text.
pub fn check_help(bin: &str, name: &str, description: &str, version: &str) {
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
        format!("{name} {version}\n")
    );
}

#[cfg(test)]
mod tests {
    use std::panic::catch_unwind;

    use super::*;

    #[test]
    fn stdout_of_returns_stdout_and_refuses_stderr() {
        assert_eq!(stdout_of("sh", &["-c", "echo out"]), "out\n");
        assert!(catch_unwind(|| stdout_of("sh", &["-c", "echo err >&2"])).is_err());
        assert!(catch_unwind(|| stdout_of("sh", &["-c", "exit 1"])).is_err());
    }

    #[test]
    fn check_help_accepts_a_complete_help() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("tool");
        let script = "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'tool 1.2.3'; exit 0; fi\n\
                      printf 'Usage: tool [--x]\\n\\nDoes things.\\n\\nExamples:\\n  $ tool a\\n  $ tool b\\n'\n";
        // Written by a child process: a file this process had open for writing could be
        // inherited by a parallel test's fork, and executing it would fail (ETXTBSY).
        run(
            Command::new("sh")
                .args(["-c", "cat > \"$0\" && chmod 755 \"$0\""])
                .arg(&bin),
            script.as_bytes(),
            STEP,
        )
        .assert_success();
        let bin = bin.to_str().unwrap();
        check_help(bin, "tool", "Does things.", "1.2.3");
        assert!(catch_unwind(|| check_help(bin, "tool", "Other.", "1.2.3")).is_err());
        assert!(catch_unwind(|| check_help(bin, "tool", "Does things.", "9.9.9")).is_err());
    }
}
