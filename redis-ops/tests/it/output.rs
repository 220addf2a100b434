//! A closed standard output (`redis-ops ... | head -1`): a command whose job is printing stops
//! quietly with exit 0, never a panic, nothing on stderr; `publish` (a producer) has sent its
//! message all the same.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use redis::Commands;

use crate::support::*;

/// Runs `command` with its stdout read for `lines` lines (0: none, the pipe is closed from the
/// start) and then closed, like `| head -<lines>`; answers the exit code and stderr.
fn with_stdout_closed_after(command: &mut Command, lines: usize) -> (Option<i32>, String) {
    if lines == 0 {
        let run = test_support::run_with_closed_stdout(command, b"", Duration::from_mins(1));
        return (run.code(), run.stderr);
    }
    let child = {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start redis-ops");
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        for _ in 0..lines {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            assert!(!line.is_empty(), "stdout ended early");
        }
        child
    };
    let out = finish(child, Duration::from_mins(1));
    (out.status.code(), text(&out.stderr))
}

fn assert_quiet_success((code, stderr): (Option<i32>, String), what: &str) {
    assert_eq!(code, Some(0), "{what}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert_eq!(stderr, "", "{what}");
}

#[test]
fn bench_q_piped_into_head_1_ends_quietly() {
    let _ = redis();
    let mut c = cmd();
    c.args(["bench", "-q", "-c", "2", "-n", "200", "-t", "set,get,incr"]);
    assert_quiet_success(with_stdout_closed_after(&mut c, 1), "bench -q | head -1");
}

#[test]
fn get_and_lesson_into_a_closed_pipe_end_quietly() {
    let mut conn = redis();
    let key = unique("closed");
    let _: () = conn.set(&key, "x".repeat(100_000)).unwrap();
    let mut c = cmd();
    c.args(["get", &key]);
    assert_quiet_success(with_stdout_closed_after(&mut c, 0), "get");
    let _: () = conn.del(&key).unwrap();

    let mut c = cmd();
    c.args(["lesson", "strings"]);
    assert_quiet_success(with_stdout_closed_after(&mut c, 0), "lesson");
}

#[test]
fn subscribe_into_a_closed_pipe_ends_quietly_at_the_next_message() {
    let mut conn = redis();
    let channel = unique("closed-sub");
    let child = Proc::spawn_closed(
        cmd().args(["-q", "subscribe", &channel, "--timeout", "30"]),
        test_support::Closed::Stdout,
        Stdio::null(),
    );
    // Subscribed when the server counts it (-q: no "subscribed to" line).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let counts: Vec<(String, i64)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&channel)
            .query(&mut conn)
            .unwrap();
        if counts.first().is_some_and(|(_, n)| *n >= 1) {
            break;
        }
        assert!(Instant::now() < deadline, "never subscribed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _: i64 = conn.publish(&channel, "into the void").unwrap();
    let out = child.finish(Duration::from_secs(30));
    assert_quiet_success((out.code(), out.stderr), "subscribe");
}

/// A producer: the message goes out whether or not anyone reads the count.
#[test]
fn publish_sends_even_when_nobody_reads_the_count() {
    let mut conn = redis();
    let channel = unique("closed-pub");
    let mut pubsub = conn.as_pubsub();
    pubsub.subscribe(&channel).unwrap();
    pubsub
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut c = cmd();
    c.args(["publish", &channel, "sent anyway"]);
    assert_quiet_success(with_stdout_closed_after(&mut c, 0), "publish");
    let msg = pubsub.get_message().unwrap();
    assert_eq!(msg.get_payload::<String>().unwrap(), "sent anyway");
}

/// Waits for `child` (killed, and the test failed, after `limit`); its stderr is read to the end.
fn finish(mut child: std::process::Child, limit: Duration) -> std::process::Output {
    let started = Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output();
            panic!("redis-ops did not exit within {limit:?}: {out:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("the output")
}
