//! A closed stdout (`rabbit-ops ... | head -1`): a receiver stops quietly (exit 0) and
//! acknowledges nothing it did not print; a producer stops and says how many messages it did not
//! send (exit 1); nothing panics.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use test_support::STEP;

use crate::support::{Cleanup, cmd, rabbit};

/// `rabbit-ops --url <shared broker> args...` with `stdin`, stdout and stderr piped.
fn spawn(args: &[&str], stdin: Stdio) -> Child {
    cmd(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for the exit (killing it after [`STEP`]); answers the code and stderr.
fn finish(mut child: Child) -> (Option<i32>, String) {
    let deadline = Instant::now() + STEP;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {STEP:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr);
    (status.code(), stderr)
}

/// Reads the first line of `stdout` (within [`STEP`]) and closes it.
fn first_line_then_close(stdout: ChildStdout) -> String {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        // The reader (and the pipe's read end) goes here.
    });
    rx.recv_timeout(STEP).expect("no first line")
}

#[test]
fn a_receiver_stops_quietly_and_acknowledges_nothing_it_did_not_print() {
    let mut clean = Cleanup::new();
    let q = clean.queue("closed-stdout");
    let mut child = spawn(&["receive", "--queue", &q], Stdio::null());
    let first = first_line_then_close(child.stdout.take().unwrap());
    assert_eq!(first, " [*] Waiting for messages. To exit press CTRL+C\n");
    assert_eq!(rabbit(&["send", "--queue", &q, "kept"]).code(), Some(0));
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stderr, "");
    // The message it could not print is still in the queue.
    let got = rabbit(&["receive", "--queue", &q, "--count", "1"]);
    assert_eq!(
        got.lines(),
        [
            " [*] Waiting for messages. To exit press CTRL+C",
            " [x] Received kept"
        ],
        "{got:?}"
    );
}

#[test]
fn a_producer_stops_and_says_how_many_messages_it_did_not_send() {
    let mut clean = Cleanup::new();
    let q = clean.queue("closed-stdout");
    let mut child = spawn(&["new-task", "--stdin", "--queue", &q], Stdio::piped());
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"t1.\nt2.\nt3.\nt4.\nt5.\n").unwrap();
    drop(stdin);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        stderr,
        "error: standard output was closed: 1 sent, 4 not sent\n"
    );
    // Exactly the one it said it sent is in the queue.
    let got = rabbit(&["worker", "--queue", &q, "--dot-ms", "0", "--timeout", "1"]);
    assert_eq!(
        got.lines()[1..],
        [" [x] Received t1.", " [x] Done"],
        "{got:?}"
    );
}

#[test]
fn a_command_whose_one_message_was_sent_ends_quietly() {
    let mut clean = Cleanup::new();
    let (hello, tasks) = (clean.queue("closed-stdout"), clean.queue("closed-stdout"));
    for args in [
        &["send", "--queue", &hello][..],
        &["new-task", "--queue", &tasks, "one."],
    ] {
        let mut child = spawn(args, Stdio::null());
        drop(child.stdout.take());
        let (code, stderr) = finish(child);
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "{args:?}");
    }
}
