//! The stream commands against our copies of today's official stream tutorial programs
//! (`tests/official/stream_*.py`, `offset_tracking_*.py`; rstream in `target/rstream-venv`, made
//! by `scripts/rstream-venv`): every pairing both ways on the shared broker, and a stored offset
//! written by one side's consumer and resumed by the other's. Every test uses streams of its own,
//! deleted at the end.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use test_support::{Run, STEP, command};

use crate::streams::{require_streams, stream_name, streams};
use crate::support::{Cleanup, got_bodies};

/// The venv's python with rstream, made once per test binary; the test fails loudly when it
/// cannot be made.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let out = std::process::Command::new(root.join("scripts/rstream-venv"))
            .output()
            .expect("cannot run scripts/rstream-venv");
        assert!(
            out.status.success(),
            "scripts/rstream-venv could not make the venv with rstream (the official stream \
             programs need it): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

/// An official stream program on `stream` (and `env`), pointed at the shared broker.
fn official(program: &str, stream: &str, env: &[(&str, &str)]) -> Command {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/official")
        .join(format!("{program}.py"));
    let mut c = command(python());
    c.arg(script)
        .env("TUTORIAL_STREAM_URL", require_streams())
        .env("TUTORIAL_STREAM", stream);
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Runs an official program to the end (stdin: one Enter, for send.py's prompt); it must
/// succeed.
fn run_official(mut c: Command) -> Run {
    let r = test_support::run(&mut c, b"\n", STEP * 2);
    assert_eq!(r.code(), Some(0), "{r:?}");
    r
}

#[test]
fn hello_world_both_ways() {
    let mut clean = Cleanup::new();
    let s = stream_name(&mut clean, "official-hello");
    // The official send.py, then ours: our receiver reads both.
    let r = run_official(official("stream_send", &s, &[]));
    assert_eq!(r.lines()[0], " [x] Hello, World! message sent");
    streams(&["stream-send", "--stream", &s, "from", "rabbit-ops"]).assert_success();
    let r = streams(&["stream-receive", "--stream", &s, "--count", "2"]);
    r.assert_success();
    assert_eq!(
        r.lines()[1..],
        [
            "Got message: Hello, World! with offset: 0",
            "Got message: from rabbit-ops with offset: 1"
        ]
    );
    // The official receive.py reads both too (it prints the raw AMQP 1.0 bytes rstream hands
    // it without a decoder, as the official program does).
    let r = run_official(official(
        "stream_receive",
        &s,
        &[("TUTORIAL_MAX_MESSAGES", "2")],
    ));
    let lines = r.lines();
    assert_eq!(lines[0], "Press control +C to close");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[1].contains("Hello, World!'"), "{lines:?}");
    assert!(lines[2].contains("from rabbit-ops'"), "{lines:?}");
    assert!(
        lines[2].ends_with(&format!(" from stream {s}")),
        "{lines:?}"
    );
}

/// Our offset-tracking-receive on stream `s` under the name `shared`, successful: the bodies
/// it printed, and its last line.
fn consumed_as_shared(s: &str) -> (Vec<String>, String) {
    let r = streams(&["offset-tracking-receive", "--stream", s, "--name", "shared"]);
    r.assert_success();
    let lines = r.lines();
    (
        got_bodies(&lines),
        lines.last().cloned().unwrap_or_default(),
    )
}

#[test]
fn offset_tracking_both_ways_and_stored_offsets_shared() {
    let mut clean = Cleanup::new();
    let s = stream_name(&mut clean, "official-offsets");
    // Official producer -> our consumer: the 100 messages, up to the marker.
    let r = run_official(official("offset_tracking_send", &s, &[]));
    assert_eq!(
        r.lines(),
        ["Publishing 100 messages", "Messages confirmed: true"]
    );
    let (bodies, last) = consumed_as_shared(&s);
    let mut want: Vec<String> = (0..99).map(|i| format!("hello: {i}")).collect();
    want.push("marker: 99".into());
    assert_eq!(bodies, want);
    assert_eq!(last, "Done consuming first_offset: 0 last_offset: 99");
    // Our producer -> the official consumer, under the same name: it resumes after the offset
    // our consumer stored (99), so it reads only our 100 messages.
    streams(&["offset-tracking-send", "--stream", &s]).assert_success();
    let r = run_official(official(
        "offset_tracking_receive",
        &s,
        &[("TUTORIAL_CONSUMER", "shared")],
    ));
    let lines = r.lines();
    assert_eq!(lines[0], "Started consuming: Press control +C to close");
    assert_eq!(lines[1], "First message received");
    let done = lines.last().unwrap();
    let offsets: [u64; 2] = done
        .strip_prefix("Done consuming first_offset: ")
        .and_then(|rest| rest.trim_end().split_once(" last_offset "))
        .and_then(|(a, b)| Some([a.parse().ok()?, b.parse().ok()?]))
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(offsets[0] > 99, "resumed after 99: {lines:?}");
    // And back: the official consumer stored its marker; ours resumes after it and finds
    // only what comes next.
    run_official(official("offset_tracking_send", &s, &[]));
    let (bodies, last) = consumed_as_shared(&s);
    assert_eq!(bodies, want, "only the third batch");
    let first: u64 = last
        .strip_prefix("Done consuming first_offset: ")
        .and_then(|rest| rest.split_once(' '))
        .and_then(|(a, _)| a.parse().ok())
        .unwrap_or_else(|| panic!("{last}"));
    assert!(first > offsets[1], "resumed after {}: {last}", offsets[1]);
}

#[test]
fn a_stream_made_with_other_settings_is_used_with_a_warning() {
    let mut clean = Cleanup::new();
    let s = stream_name(&mut clean, "official-retention");
    // The offset-tracking program makes it with 2 GB; stream-send asks for 5 GB.
    run_official(official("offset_tracking_send", &s, &[]));
    let r = streams(&["stream-send", "--stream", &s]);
    r.assert_success();
    assert_eq!(
        r.stderr,
        format!(
            "warning: stream '{s}' exists with other settings (retention or leader locator): \
             using it as it is\n"
        )
    );
    let r = streams(&[
        "stream-receive",
        "--stream",
        &s,
        "--offset",
        "100",
        "--count",
        "1",
    ]);
    assert_eq!(r.lines()[1], "Got message: Hello, World! with offset: 100");
}
