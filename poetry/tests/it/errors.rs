//! What each binary says when it fails, to the letter: one runtime error and the usage errors
//! (each `error: <what>`, then the help line, exit 2); and a closed stdout, which ends nothing
//! badly.

use std::io::Read;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use test_support::{STEP, command, silent_listener};

use super::support::{
    CLIENT, PROXY, SERVER, TRANSFORM, poem, poem_path, poetry_server, run_bin, s,
};

/// Checks that `bin args` exits 2 with exactly `error: <what>` and the help line on stderr,
/// for each `(args, what)`, at once (nothing is allocated, read or connected first).
pub(super) fn usage(bin: &str, name: &str, cases: &[(&[&str], &str)]) {
    for (args, what) in cases {
        let out = run_bin(bin, &s(args));
        assert_eq!(out.code(), Some(2), "{out:?}");
        assert!(out.took < Duration::from_secs(5), "{out:?}");
        assert_eq!(
            out.stderr,
            format!("error: {what}\nRun '{name} --help' for usage.\n"),
            "{args:?}"
        );
        assert!(out.stdout.is_empty(), "{out:?}");
    }
}

/// argh's words for a bad `SECS` value, through `common::cli::secs` / `positive_secs`.
fn bad_secs(value: &str, option: &str, least: &str) -> String {
    format!(
        "invalid value '{value}' for {option}: expected a number of seconds, {least}, like 5 or 0.5, not '{value}'"
    )
}

#[test]
fn poetry_server_usage_errors() {
    let file = poem_path("science.txt");
    let file = file.to_str().unwrap();
    let (delay, grace) = (
        bad_secs("-1", "--delay", "0 or more"),
        bad_secs("x", "--grace", "0 or more"),
    );
    usage(
        SERVER,
        "poetry-server",
        &[
            (&[], "Provide exactly one poetry file."),
            (
                &[file, "--threads", "0"],
                "--threads must be from 1 to 1024",
            ),
            (
                &[file, "--threads", "1025"],
                "--threads must be from 1 to 1024",
            ),
            (&[file, "--delay", "-1"], &delay),
            (&[file, "--grace", "x"], &grace),
            (&[file, "--num-bytes", "0"], "--num-bytes must be 1 or more"),
            (
                &[file, "--max-connections", "0"],
                "--max-connections must be 1 or more",
            ),
        ],
    );
}

#[test]
fn poetry_client_usage_errors() {
    let timeout = bad_secs("0", "--timeout", "more than 0");
    let wait = bad_secs("-2", "--wait", "more than 0");
    usage(
        CLIENT,
        "poetry-client",
        &[
            (
                &[],
                "give at least one address to download from, [host:]port",
            ),
            (&["9000", "--timeout", "0"], &timeout),
            (&["9000", "--wait", "-2"], &wait),
            (
                &["9000", "--json", "--transform", "10000"],
                "--transform has no use with --json, which prints no poems",
            ),
            (
                &["9000", "--concurrency", "0"],
                "--concurrency must be 1 or more",
            ),
            (
                &["9000", "localhost:x"],
                "bad address 'localhost:x': Ports must be integers.",
            ),
        ],
    );
}

#[test]
fn poetry_transform_and_proxy_usage_errors() {
    let timeout = bad_secs("abc", "--timeout", "more than 0");
    usage(
        TRANSFORM,
        "poetry-transform",
        &[(&["--timeout", "abc"], &timeout)],
    );
    let grace = bad_secs("-1", "--grace", "0 or more");
    usage(
        PROXY,
        "poetry-proxy",
        &[
            (&["9000", "--grace", "-1"], &grace),
            (
                &["localhost:poem"],
                "bad address 'localhost:poem': Ports must be integers.",
            ),
        ],
    );
}

#[test]
fn each_server_on_a_port_in_use_says_so_in_one_line() {
    let (_taken, addr) = silent_listener();
    let port = addr.port().to_string();
    let file = poem_path("science.txt");
    for (bin, args) in [
        (SERVER, vec!["--port", &port, file.to_str().unwrap()]),
        (TRANSFORM, vec!["--port", &port]),
        (PROXY, vec!["9000", "--port", &port]),
    ] {
        let out = run_bin(bin, &s(&args));
        assert_eq!(out.code(), Some(1), "{out:?}");
        assert_eq!(
            out.stderr,
            format!("error: cannot listen on {addr}: address already in use\n")
        );
        assert!(out.stdout.is_empty(), "{out:?}");
    }
}

/// `bin args` started with stdin empty and stdout and stderr piped, for a test that closes one
/// of them.
pub(super) fn spawn_piped(bin: &str, args: &[&str]) -> Child {
    command(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (at most [`STEP`]) for `child` to exit, killing it if it does not.
pub(super) fn wait_bounded(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + STEP;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {STEP:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub(super) fn stderr_of(child: &mut Child) -> String {
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

/// `poetry-client ... | head -c1`: the reader goes away after one byte; the client stops
/// quietly, exit 0, without claiming the poems it could not print.
#[tokio::test]
async fn poetry_client_stops_quietly_when_stdout_is_closed() {
    let poem = poem("ecstasy.txt");
    let server = poetry_server(poetry::server::Config::new(poem.clone())).await;
    // 200 poems, 600 KB: far more than a pipe holds, so a write meets the closed pipe.
    let argv = vec![server.addr.to_string(); 200];
    let (status, stderr) = tokio::task::spawn_blocking(move || {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let mut child = spawn_piped(CLIENT, &argv);
        let mut first = [0u8; 1];
        let mut stdout = child.stdout.take().unwrap();
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let status = wait_bounded(&mut child);
        (status, stderr_of(&mut child))
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    assert!(
        !stderr.contains("Got 200 poems"),
        "it printed fewer: {stderr}"
    );
    assert!(
        stderr.lines().all(|l| l.starts_with("Task ")),
        "only the downloads' lines: {stderr}"
    );
    server.stop().await;
}

/// A server whose stdout is closed before its first line still serves, and stops cleanly.
#[test]
fn poetry_server_goes_on_when_stdout_is_closed() {
    let file = poem_path("science.txt");
    let mut child = spawn_piped(SERVER, &["--port", "0", file.to_str().unwrap()]);
    drop(child.stdout.take());
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "the server stopped");
    test_support::send_signal(child.id(), test_support::Signal::Term);
    let status = wait_bounded(&mut child);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr,
        "poetry-server: served 0 poem(s), 0 bytes, to 0 connection(s); 0 cut short\n"
    );
}
