//! `rabbit-ops bench --stream` (issue 20) against the shared broker's stream port: every message
//! counted, the figures printed, the bench's stream deleted afterwards, also on Ctrl-C; its
//! usage errors. (Its speed is measured by scripts/bench.d/stream.sh, never here.)

use std::time::Duration;

use rabbit_ops::streams::{Endpoint, StreamUrl};
use test_support::{Proc, STEP};

use crate::streams::{require_streams, stream_cmd, streams};

/// The name of the bench's stream, from its `-v` log line `bench stream '<name>'`.
fn bench_stream(stderr: &str) -> String {
    let start = stderr
        .find("bench stream '")
        .unwrap_or_else(|| panic!("no bench stream line in {stderr:?}"))
        + "bench stream '".len();
    let len = stderr[start..]
        .find('\'')
        .expect("the name's closing quote");
    stderr[start..start + len].to_owned()
}

/// Whether `stream` exists on the shared broker.
fn exists(stream: &str) -> bool {
    let endpoint = Endpoint {
        url: StreamUrl::parse(&require_streams()).unwrap(),
        tls: None,
        timeout: Duration::from_secs(5),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(endpoint.metadata(stream))
        .expect("the broker answers a metadata request")
        .is_some()
}

#[test]
fn bench_stream_counts_every_message_and_deletes_its_stream() {
    let r = streams(&[
        "-v",
        "bench",
        "--stream",
        "--messages",
        "3000",
        "--size",
        "64",
    ]);
    r.assert_success();
    let lines = r.lines();
    assert_eq!(lines.len(), 5, "{r:?}");
    assert_eq!(
        lines[0],
        "bench: 3000 messages of 64 bytes, 1 producer, 1 consumer, a stream, confirms"
    );
    assert!(
        lines[1].starts_with("publish: ") && lines[1].ends_with(" msg/s"),
        "{r:?}"
    );
    assert!(
        lines[2].starts_with("consume: ") && lines[2].ends_with(" msg/s"),
        "{r:?}"
    );
    assert!(lines[3].starts_with("latency: p50 "), "{r:?}");
    assert_eq!(lines[4], "lost: 0, duplicates: 0");
    let stream = bench_stream(&r.stderr);
    assert!(stream.starts_with("rabbit-ops-bench-"), "{stream}");
    assert!(!exists(&stream), "the bench left its stream {stream}");

    let r = streams(&["bench", "--stream", "--messages", "100", "--json"]);
    r.assert_success();
    let json = r.stdout_text();
    assert!(json.starts_with("{\"publish_per_s\":"), "{json}");
    assert!(json.trim_end().ends_with(",\"lost\":0}"), "{json}");
}

#[test]
fn ctrl_c_ends_bench_stream_with_130_and_its_stream_deleted() {
    let mut p = Proc::spawn(&mut stream_cmd(&[
        "-v",
        "bench",
        "--stream",
        "--messages",
        "50000000",
    ]));
    p.wait_for_err_line(|l| l.contains("bench stream '"), STEP * 2);
    std::thread::sleep(Duration::from_millis(300));
    p.interrupt();
    let r = p.finish(STEP * 2);
    assert_eq!(r.code(), Some(130), "{r:?}");
    assert_eq!(r.stdout_text(), "", "no figures when interrupted: {r:?}");
    let lines = r.stderr_lines();
    let last = lines.last().copied().unwrap_or_default().to_owned();
    // -v: the stream's name on an INFO line; nothing from the client between it and the error.
    assert_eq!(lines.len(), 2, "{r:?}");
    assert!(
        last.starts_with("error: interrupted: bench: ")
            && last.contains(" of 50000000 messages published, ")
            && last.ends_with(" received; stream deleted"),
        "{r:?}"
    );
    let stream = bench_stream(&r.stderr);
    assert!(!exists(&stream), "Ctrl-C left the bench's stream {stream}");
}

#[test]
fn bench_stream_usage_errors() {
    for (args, what) in [
        (
            &["--producers", "2"][..],
            "--stream takes --messages, --size, --confirm and --json",
        ),
        (&["--quorum"][..], "--stream takes --messages"),
        (&["--size", "8"][..], "--size must be at least 16"),
        (
            &["--messages", "100000001"][..],
            "--messages must be at most 100000000",
        ),
    ] {
        let mut all = vec!["bench", "--stream"];
        all.extend_from_slice(args);
        let r = streams(&all);
        assert_eq!(r.code(), Some(2), "{args:?}: {r:?}");
        assert!(
            r.stderr_lines().first().is_some_and(|l| l.contains(what)),
            "{args:?}: {r:?}"
        );
    }
    let r = crate::support::run({
        let mut c = crate::support::bin();
        c.args([
            "--url",
            "amqp://guest:guest@127.0.0.1:5672/%2f",
            "bench",
            "--stream",
        ]);
        c
    });
    assert_eq!(r.code(), Some(2), "{r:?}");
    assert!(r.stderr.contains("needs a stream URL"), "{r:?}");
}
