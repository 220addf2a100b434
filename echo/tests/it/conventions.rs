//! The workspace's conventions, exactly (README "Conventions", issue 14): a runtime failure is
//! one line `error: <what>: <cause>` with exit 1; a usage error is `error: <what>` and the help
//! line with exit 2, never a double prefix; a closed stdout never panics.

use std::time::Duration;

use test_support::{Closed, Run, STEP, command, silent_listener};

use crate::support::{
    BENCH, CLIENT, SERVER, ServerProcess, run, server_with_closed, wait_for_handler,
};

/// `bin args` with its stdout a closed pipe (`| head -c0`) and `stdin` fed in.
fn run_with_closed_stdout(bin: &str, args: &[&str], stdin: &[u8]) -> Run {
    test_support::run_with_closed_stdout(command(bin).args(args), stdin, STEP)
}

/// `bin args` exits 2 with exactly `error: <message>` and the help line on stderr, nothing on
/// stdout.
fn usage(bin: &str, args: &[&str], message: &str) {
    let out = run(bin, args, b"");
    let name = std::path::Path::new(bin)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(
        out.stderr,
        format!("error: {message}\nRun '{name} --help' for usage.\n"),
        "{name} {args:?}"
    );
    assert_eq!(out.status.code(), Some(2), "{name} {args:?}");
    assert_eq!(out.stdout_text(), "", "{name} {args:?}");
}

#[test]
fn usage_errors_are_one_prefix_and_the_help_line() {
    // Once `error: error: --threads must be at least 1`.
    usage(SERVER, &["--threads", "0"], "--threads must be at least 1");
    usage(
        SERVER,
        &["--threads", "1025"],
        "--threads must be at most 1024",
    );
    usage(
        SERVER,
        &["--max-connections", "0"],
        "--max-connections must be at least 1",
    );
    usage(
        SERVER,
        &["--grace", "-1"],
        "invalid value '-1' for --grace: expected a number of seconds, 0 or more, like 5 or 0.5, not '-1'",
    );
    usage(
        CLIENT,
        &["--stdin", "--message", "x"],
        "give --message or --stdin, not both",
    );
    usage(
        CLIENT,
        &["--timeout", "0"],
        "invalid value '0' for --timeout: expected a number of seconds, more than 0, like 5 or 0.5, not '0'",
    );
    usage(
        CLIENT,
        &["localhost:nine"],
        "bad address 'localhost:nine': Ports must be integers.",
    );
    usage(BENCH, &["--threads", "0"], "--threads must be at least 1");
    usage(
        BENCH,
        &["--connections", "0"],
        "--connections must be between 1 and 100000",
    );
    usage(
        BENCH,
        &["--connections", "100001"],
        "--connections must be between 1 and 100000",
    );
    usage(
        BENCH,
        &["--size", "0"],
        "--size must be between 1 and 16777216 bytes",
    );
    usage(
        BENCH,
        &["--duration", "0"],
        "invalid value '0' for --duration: expected a number of seconds, more than 0, like 5 or 0.5, not '0'",
    );
}

#[test]
fn runtime_errors_are_one_line_with_the_cause_in_short_words() {
    let refused = test_support::refused_addr();

    let out = run(CLIENT, &[&refused.to_string()], b"");
    assert_eq!(out.stdout_text(), "Connection failed - goodbye!\n");
    assert_eq!(
        out.stderr,
        format!("error: cannot connect to {refused}: connection refused\n")
    );
    assert_eq!(out.status.code(), Some(1));

    let out = run(BENCH, &[&refused.to_string(), "--duration", "0.2"], b"");
    assert_eq!(
        out.stderr,
        format!("error: cannot connect to {refused}: connection refused\n")
    );
    assert_eq!(out.stdout_text(), "");
    assert_eq!(out.status.code(), Some(1));

    let (_taken, addr) = silent_listener();
    let port = addr.port().to_string();
    let out = run(SERVER, &["--port", &port], b"");
    assert_eq!(
        out.stderr,
        format!("error: cannot listen on 127.0.0.1:{port}: address already in use\n")
    );
    assert_eq!(out.stdout_text(), "");
    assert_eq!(out.status.code(), Some(1));
}

/// Exit 0, nothing on stderr (no panic, no `error:` about the pipe).
fn quiet_success(out: &Run, what: &str) {
    assert_eq!(out.stderr, "", "{what}");
    assert_eq!(out.code(), Some(0), "{what}");
}

#[test]
fn a_closed_stdout_ends_the_printing_quietly() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr.to_string();

    let out = run_with_closed_stdout(CLIENT, &[&addr], b"");
    quiet_success(&out, "echo-client | head -c0");

    let out = run_with_closed_stdout(CLIENT, &["--stdin", &addr], b"a\nb\n");
    quiet_success(&out, "printf 'a\\nb\\n' | echo-client --stdin | head -c0");

    let out = run_with_closed_stdout(
        BENCH,
        &[&addr, "--connections", "2", "--duration", "0.2"],
        b"",
    );
    quiet_success(&out, "echo-bench | head -c0");
    let out = run_with_closed_stdout(
        BENCH,
        &[&addr, "--connections", "2", "--duration", "0.2", "--json"],
        b"",
    );
    quiet_success(&out, "echo-bench --json | head -c0");

    // A failure is still reported, on stderr, with its exit code.
    let refused = test_support::refused_addr().to_string();
    let out = run_with_closed_stdout(CLIENT, &[&refused], b"");
    assert_eq!(
        out.stderr,
        format!("error: cannot connect to {refused}: connection refused\n")
    );
    assert_eq!(out.code(), Some(1));
}

#[test]
fn a_server_whose_stdout_is_closed_still_serves_and_stops_cleanly() {
    let mut server = server_with_closed(Closed::Stdout);
    wait_for_handler(server.pid(), 15);
    std::thread::sleep(Duration::from_millis(100));
    server.terminate();
    let out = server.finish(STEP);
    assert_eq!(
        out.stderr,
        "echo-server: stopped; 0 connections served, 0 bytes echoed\n"
    );
    assert_eq!(out.code(), Some(0));
}
