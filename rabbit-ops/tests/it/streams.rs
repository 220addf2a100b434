//! The stream commands (issue 20) against the shared broker's stream port, as a user sees them:
//! the lines, the exit codes, what is in the stream afterwards; and against peers that are not
//! stream brokers. Every test uses streams of its own (unique names), deleted at the end (a
//! stream is a queue to AMQP 0-9-1: `Cleanup` deletes it, and the offsets stored in it).

use std::io::Write;
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use rabbit_ops::streams::url::{DEFAULT_STREAM_URL, STREAM_URL_ENV};
use test_support::{Proc, Run, STEP};

use crate::support::{Cleanup, bin, ended, got_bodies, run};

/// The shared broker's stream URL: `$RABBITMQ_STREAM_URL`, else the default.
pub fn stream_url() -> String {
    std::env::var(STREAM_URL_ENV).unwrap_or_else(|_| DEFAULT_STREAM_URL.to_owned())
}

/// Fails the test loudly when the shared broker has no stream port.
pub fn require_streams() -> String {
    let url = stream_url();
    let parsed = rabbit_ops::streams::StreamUrl::parse(&url).expect("a stream URL");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    if let Err(e) = rt.block_on(rabbit_ops::streams::probe::check(&parsed, None, deadline)) {
        panic!(
            "RabbitMQ's stream port does not answer at {url} ({e}): run scripts/services up \
             (it enables the rabbitmq_stream plugin), or point RABBITMQ_STREAM_URL at one"
        );
    }
    url
}

/// `rabbit-ops --url <stream url> args...` (no `$RABBITMQ_STREAM_URL` from the environment).
pub fn stream_cmd(args: &[&str]) -> Command {
    let mut c = bin();
    c.env_remove(STREAM_URL_ENV);
    c.arg("--url").arg(require_streams()).args(args);
    c
}

/// Runs a stream command to the end.
pub fn streams(args: &[&str]) -> Run {
    run(stream_cmd(args))
}

/// A unique stream name, deleted (with its stored offsets) when `clean` drops.
pub fn stream_name(clean: &mut Cleanup, what: &str) -> String {
    clean.queue(&format!("stream-{what}"))
}

const WAITING: &str = " [*] Waiting for messages. To exit press CTRL+C";

fn got(body: &str, offset: u64) -> String {
    format!("Got message: {body} with offset: {offset}")
}

/// `stream-receive --stream <stream> --offset <offset> --count <count>`: the message lines
/// (the waiting line left out).
fn received_from(stream: &str, offset: &str, count: &str) -> Vec<String> {
    let r = streams(&[
        "stream-receive",
        "--stream",
        stream,
        "--offset",
        offset,
        "--count",
        count,
    ]);
    r.lines()[1..].to_vec()
}

#[test]
fn hello_world_send_and_receive() {
    let mut clean = Cleanup::new();
    let s = stream_name(&mut clean, "hello");
    let r = streams(&["stream-send", "--stream", &s]);
    r.assert_success();
    assert_eq!(r.lines(), [format!("Sent message to stream: {s}")]);
    streams(&["stream-send", "--stream", &s, "second", "one"]).assert_success();
    // From the first message (the default), two lines, exit 0 at --count.
    let r = streams(&["stream-receive", "--stream", &s, "--count", "2"]);
    r.assert_success();
    assert_eq!(
        r.lines(),
        [
            WAITING.to_owned(),
            got("Hello, World!", 0),
            got("second one", 1)
        ]
    );
    // From offset 1; from the last chunk.
    assert_eq!(received_from(&s, "1", "1"), [got("second one", 1)]);
    assert_eq!(received_from(&s, "last", "1"), [got("second one", 1)]);
    // From a time before the first message: all of them.
    assert_eq!(
        received_from(&s, "@0", "2"),
        [got("Hello, World!", 0), got("second one", 1)]
    );
    // Only new ones: none come, --timeout ends it with exit 1 and one line.
    let r = streams(&[
        "stream-receive",
        "--stream",
        &s,
        "--offset",
        "next",
        "--timeout",
        "1",
    ]);
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert_eq!(r.lines(), [WAITING]);
    assert_eq!(
        r.stderr,
        "error: no message within 1.0 s (received 0 before)\n"
    );
}

#[test]
fn a_waiting_receiver_prints_what_is_sent_and_stops_on_ctrl_c() {
    let mut clean = Cleanup::new();
    let s = stream_name(&mut clean, "live");
    let mut p = Proc::spawn(&mut stream_cmd(&[
        "stream-receive",
        "--stream",
        &s,
        "--offset",
        "next",
    ]));
    p.expect_line(WAITING);
    streams(&["stream-send", "--stream", &s, "live"]).assert_success();
    p.expect_line(&got("live", 0));
    p.interrupt();
    let r = ended(p, 0, "", STEP);
    assert_eq!(r.lines(), [WAITING.to_owned(), got("live", 0)]);
}

#[test]
fn offset_tracking_resumes_after_the_stored_offset() {
    let mut clean = Cleanup::new();
    let s = stream_name(&mut clean, "offsets");
    let r = streams(&["offset-tracking-send", "--stream", &s]);
    r.assert_success();
    assert_eq!(
        r.lines(),
        ["Publishing 100 messages", "Messages confirmed."]
    );
    let r = streams(&["offset-tracking-receive", "--stream", &s]);
    r.assert_success();
    let lines = r.lines();
    assert_eq!(lines[..2], ["Started consuming", "First message received"]);
    let expected: Vec<String> = (0..100)
        .map(|i| {
            let body = if i < 99 {
                format!("hello{i}")
            } else {
                format!("marker{i}")
            };
            got(&body, i)
        })
        .collect();
    assert_eq!(lines[2..102], expected[..]);
    assert_eq!(
        lines[102..],
        ["Done consuming first_offset: 0 last_offset: 99"]
    );
    // A second batch: the consumer resumes after the marker it stored, not at 0. The broker
    // keeps the stored offsets in the stream itself (they take offsets of their own).
    streams(&["offset-tracking-send", "--stream", &s, "--messages", "20"]).assert_success();
    let r = streams(&["offset-tracking-receive", "--stream", &s, "--count", "5"]);
    r.assert_success();
    let lines = r.lines();
    let first: u64 = lines[2]
        .strip_prefix("Got message: hello0 with offset: ")
        .and_then(|o| o.parse().ok())
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(first > 99, "{lines:?}");
    assert_eq!(lines.len(), 2 + 5 + 1, "{lines:?}");
    // Stopped by --count after hello4: the next run goes on at hello5, no gap, no repeat.
    let r = streams(&["offset-tracking-receive", "--stream", &s]);
    r.assert_success();
    let bodies = got_bodies(&r.lines());
    let mut want: Vec<String> = (5..19).map(|i| format!("hello{i}")).collect();
    want.push("marker19".into());
    assert_eq!(bodies, want);
    // Another consumer name starts from the first message.
    let r = streams(&[
        "offset-tracking-receive",
        "--stream",
        &s,
        "--name",
        "another",
        "--count",
        "1",
    ]);
    assert_eq!(r.lines()[2], got("hello0", 0));
}

#[test]
fn a_queue_of_that_name_is_not_a_stream() {
    let mut clean = Cleanup::new();
    let q = clean.queue("not-a-stream");
    crate::support::rabbit(&["send", "--classic", "--queue", &q]).assert_success();
    let r = streams(&["stream-send", "--stream", &q]);
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "error: '{q}' is a classic or quorum queue, not a stream: pick another name with \
             --stream, or delete the queue (rabbitmqctl delete_queue '{q}')\n"
        )
    );
}

/// Runs `args` against `url` (no stream URL from the environment); it must end within
/// `within` with exit `code` and the single stderr line `line`.
fn fails_at(url: &str, args: &[&str], code: i32, line: &str, within: Duration) {
    let mut c = bin();
    c.env_remove(STREAM_URL_ENV)
        .args(["--url", url, "--connect-timeout", "2"])
        .args(args);
    let r = run(c);
    assert_eq!(r.code(), Some(code), "{r:?}");
    assert_eq!(r.stderr_lines(), [line], "{r:?}");
    assert!(r.took < within, "took {:?}", r.took);
}

#[test]
fn peers_that_are_not_stream_brokers_end_in_one_line() {
    let quick = Duration::from_secs(4);
    // Nothing listening: the plugin is off.
    let refused = test_support::refused_addr();
    fails_at(
        &format!("rabbitmq-stream://{refused}"),
        &["stream-send"],
        1,
        &format!(
            "error: cannot connect to rabbitmq-stream://{refused}: connection refused: nothing \
             listens on {refused} (is the stream plugin enabled? rabbitmq-plugins enable \
             rabbitmq_stream)"
        ),
        quick,
    );
    // The AMQP 0-9-1 port.
    let amqp = rabbit_ops::url::AmqpUrl::parse(&test_support::require_rabbit()).unwrap();
    let url = format!("rabbitmq-stream://{}:{}", amqp.host, amqp.port);
    fails_at(
        &url,
        &["stream-receive"],
        1,
        &format!(
            "error: cannot connect to {url}: not a RabbitMQ stream port: an AMQP 0-9-1 port \
             (streams listen on 5552, 5551 with TLS)"
        ),
        quick,
    );
    // Silence: a peer that accepts and never answers, within --connect-timeout.
    let (_silent, addr) = test_support::silent_listener();
    fails_at(
        &format!("rabbitmq-stream://{addr}"),
        &["offset-tracking-receive"],
        1,
        &format!(
            "error: cannot connect to rabbitmq-stream://{addr}: no answer within 2.0 s: not a \
             RabbitMQ stream port? (streams listen on 5552, 5551 with TLS; AMQP 0-9-1 on 5672)"
        ),
        quick,
    );
}

/// A peer that answers every connection with `answer`, then sends `flood` bytes forever (until
/// the client goes): for the hostile peers.
fn answering(answer: &'static [u8], flood: bool) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let _ = conn.write_all(answer);
                let junk = vec![0x41u8; 64 * 1024];
                while flood && conn.write_all(&junk).is_ok() {}
                std::thread::sleep(Duration::from_secs(30));
            });
        }
    });
    addr
}

#[test]
fn a_huge_frame_header_or_redis_is_refused_at_once_in_bounded_memory() {
    let quick = Duration::from_secs(4);
    let huge = answering(&[0xff, 0xff, 0xff, 0xff], true);
    fails_at(
        &format!("rabbitmq-stream://{huge}"),
        &["stream-send"],
        1,
        &format!(
            "error: cannot connect to rabbitmq-stream://{huge}: not a RabbitMQ stream broker: its \
             first frame claims 4294967295 bytes (starting ffffffff)"
        ),
        quick,
    );
    let redis = answering(b"-ERR unknown command\r\n", false);
    fails_at(
        &format!("rabbitmq-stream://{redis}"),
        &["stream-send"],
        1,
        &format!(
            "error: cannot connect to rabbitmq-stream://{redis}: not a RabbitMQ stream port: it \
             answered like Redis"
        ),
        quick,
    );
    // The same peer flooding behind a TLS URL: the TLS handshake fails, in one line.
    let url = format!("rabbitmq-stream+tls://localhost:{}", huge.port());
    let mut c = bin();
    c.env_remove(STREAM_URL_ENV).args([
        "--url",
        &url,
        "--connect-timeout",
        "2",
        "--insecure",
        "stream-send",
    ]);
    let r = run(c);
    assert_eq!(r.code(), Some(1), "{r:?}");
    let lines = r.stderr_lines();
    assert_eq!(lines[0], common::tls::INSECURE_WARNING, "{r:?}");
    assert!(
        lines[1].starts_with(&format!(
            "error: cannot connect to {url}: TLS handshake with localhost:{} failed",
            huge.port()
        )),
        "{r:?}"
    );
    assert_eq!(lines.len(), 2, "{r:?}");
}

#[test]
fn credentials_urls_and_flags() {
    let url = rabbit_ops::streams::StreamUrl::parse(&require_streams()).unwrap();
    let bad = format!(
        "rabbitmq-stream://guest:not-the-s3cret@{}/%2f",
        url.address()
    );
    let mut c = bin();
    c.env_remove(STREAM_URL_ENV)
        .args(["--url", &bad, "-vv", "stream-send"]);
    let r = run(c);
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert!(!r.stderr.contains("not-the-s3cret"), "{r:?}");
    assert!(
        r.stderr.ends_with(&format!(
            "error: cannot connect to rabbitmq-stream://guest:***@{}/%2f: the broker refused the \
             user name or password\n",
            url.address()
        )),
        "{r:?}"
    );
    // An AMQP URL, a bad stream URL, a TLS flag without a TLS URL, a name too long: usage.
    for (args, line) in [
        (
            vec!["--url", "amqp://u:pw@h/%2f", "stream-send"],
            "error: stream-send needs a stream URL (rabbitmq-stream://host:5552/vhost), not \
             'amqp://u:***@h/%2f': --url amqp://... is for the queue commands",
        ),
        (
            vec!["--url", "rabbitmq-stream://u:pw@h:x", "stream-receive"],
            "error: bad stream URL 'rabbitmq-stream://u:***@h:x': Ports must be integers (got \
             'x').",
        ),
        (
            vec!["--cacert", "/nonexistent", "offset-tracking-send"],
            "error: --cacert needs a rabbitmq-stream+tls:// URL",
        ),
    ] {
        let mut c = bin();
        c.env_remove(STREAM_URL_ENV).args(&args);
        let r = run(c);
        assert_eq!(r.code(), Some(2), "{r:?}");
        assert_eq!(r.stderr_lines()[0], line, "{r:?}");
        assert!(!r.stderr.contains(":pw@"), "{r:?}");
    }
    let long = "s".repeat(256);
    let r = streams(&["stream-send", "--stream", &long]);
    assert_eq!(r.code(), Some(2), "{r:?}");
    assert_eq!(
        r.stderr_lines()[0],
        "error: --stream is 256 bytes: stream and consumer names are at most 255"
    );
}
