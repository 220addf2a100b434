//! What a user sees when something is wrong: one line on stderr, the right exit code, and no
//! wait longer than the timeout.

use std::io::Read;
use std::time::Duration;

use test_support::{Run, amqp_url, refused_addr, silent_listener, unique};

use crate::support::{Cleanup, bin, rabbit, run, with};

/// A local port nothing listens on, reserved for the test.
fn closed_port() -> u16 {
    refused_addr().port()
}

/// `rabbit-ops --connect-timeout SECS --url URL send`, which must fail (exit 1) with exactly
/// `stderr`.
fn send_fails(url: &str, connect_timeout: &str, stderr: &str) -> Run {
    let mut c = bin();
    c.args(["--connect-timeout", connect_timeout, "--url", url, "send"]);
    let r = run(c);
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert_eq!(r.stderr, stderr, "{r:?}");
    assert_eq!(r.stdout_text(), "");
    r
}

#[test]
fn unreachable_broker_is_one_line_and_exit_1_within_the_timeout() {
    let port = closed_port();
    let r = send_fails(
        &format!("amqp://guest:guest@127.0.0.1:{port}/%2f"),
        "2",
        &format!(
            "error: cannot connect to amqp://guest:***@127.0.0.1:{port}/%2f: connection refused\n"
        ),
    );
    assert!(r.took < Duration::from_secs(2), "{:?}", r.took);
}

#[test]
fn amqp_url_from_the_environment() {
    let port = closed_port();
    let mut c = bin();
    c.env("AMQP_URL", format!("amqp://me:secret@127.0.0.1:{port}/dev"))
        .args(["receive", "--count", "1"]);
    let r = run(c);
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "error: cannot connect to amqp://me:***@127.0.0.1:{port}/dev: connection refused\n"
        )
    );
}

#[test]
fn silent_peer_times_out() {
    // Accepts the TCP connection (the backlog does) but never answers the AMQP header.
    let (listener, addr) = silent_listener();
    let port = addr.port();
    let r = send_fails(
        &format!("amqp://127.0.0.1:{port}"),
        "1",
        &format!(
            "error: cannot connect to amqp://127.0.0.1:{port}: no AMQP handshake within 1.0 s: \
             is this a RabbitMQ port?\n"
        ),
    );
    assert!(r.took < Duration::from_secs(5), "{:?}", r.took);
    drop(listener);
}

#[test]
fn peer_answering_something_else_is_not_amqp() {
    let (listener, addr) = silent_listener();
    let port = addr.port();
    let peer = std::thread::spawn(move || {
        use std::io::Write;
        let (mut s, _) = listener.accept().unwrap();
        let mut header = [0u8; 8];
        let _ = s.read_exact(&mut header);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        // Stay connected, say nothing more, until the client gives up.
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let _ = s.read(&mut [0u8; 64]);
        header
    });
    let r = send_fails(
        &format!("amqp://127.0.0.1:{port}"),
        "1",
        &format!(
            "error: cannot connect to amqp://127.0.0.1:{port}: the peer does not speak AMQP \
             0-9-1: is this a RabbitMQ port?\n"
        ),
    );
    assert!(r.took < Duration::from_secs(5), "{:?}", r.took);
    assert_eq!(&peer.join().unwrap(), b"AMQP\x00\x00\x09\x01");
}

#[test]
fn bad_credentials_say_what_to_check() {
    let _c = Cleanup::new();
    let url = with("nobody-here:wrong", "%2f");
    let shown = common::redact::redact_url(&url);
    let r = send_fails(
        &url,
        "5",
        &format!(
            "error: cannot connect to {shown}: access refused for user 'nobody-here': check \
             the user name and password in --url or $AMQP_URL\n"
        ),
    );
    assert!(!r.stderr.contains("wrong"));
}

#[test]
fn missing_vhost_says_how_to_create_it() {
    let _c = Cleanup::new();
    let vhost = unique("test-vhost");
    let base = rabbit_ops::url::AmqpUrl::parse(&amqp_url()).unwrap();
    let url = with(&format!("{}:{}", base.user, base.password), &vhost);
    let shown = common::redact::redact_url(&url);
    send_fails(
        &url,
        "5",
        &format!(
            "error: cannot connect to {shown}: virtual host '{vhost}' does not exist: create it \
             (rabbitmqctl add_vhost {vhost}) or fix the path of the URL\n"
        ),
    );
}

#[test]
fn redeclaring_with_other_settings_says_what_to_do() {
    let mut clean = Cleanup::new();
    let q = clean.queue("redeclare");
    // The previous generation's declarations: hello non-durable, task_queue durable.
    assert_eq!(
        rabbit(&["send", "--classic", "--queue", &q]).code(),
        Some(0)
    );
    // new-task wants the same queue durable.
    let r = rabbit(&["new-task", "--classic", "--queue", &q]);
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "error: queue '{q}' already exists with other settings (inequivalent arg 'durable' \
             for queue '{q}' in vhost '/': received 'true' but current is 'false'): delete it \
             (rabbitmqctl delete_queue {q}) or pick another name with --queue\n"
        )
    );

    let x = clean.exchange("redeclare");
    assert_eq!(rabbit(&["emit-log", "--exchange", &x]).code(), Some(0));
    let r = rabbit(&["emit-log-direct", "--exchange", &x]);
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert!(
        r.stderr.starts_with(&format!(
            "error: exchange '{x}' already exists with other settings (inequivalent arg 'type'"
        )),
        "{r:?}"
    );
    assert!(
        r.stderr.ends_with("or pick another name with --exchange\n"),
        "{r:?}"
    );
}

#[test]
fn consumer_timeout_exits_1() {
    let mut clean = Cleanup::new();
    let q = clean.queue("idle");
    let r = rabbit(&["receive", "--queue", &q, "--timeout", "0.5"]);
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert_eq!(
        r.stdout_text(),
        " [*] Waiting for messages. To exit press CTRL+C\n"
    );
    assert_eq!(
        r.stderr,
        "error: no message within 500.0 ms (received 0 before)\n"
    );
}

/// `error: <what>` and the help line of `command`, as stderr shows them.
fn usage_text(what: &str, command: &str) -> String {
    format!("error: {what}\nRun 'rabbit-ops {command} --help' for usage.\n")
}

#[test]
fn usage_errors_exit_2_before_connecting() {
    // A URL nobody answers: a usage error must come first.
    let url = format!("amqp://guest:guest@127.0.0.1:{}/%2f", closed_port());
    let cases: [(&[&str], Option<String>); 12] = [
        (
            &["receive-logs-direct"],
            Some(usage_text(
                "no severity given: name the ones to receive, like info warning error",
                "receive-logs-direct",
            )),
        ),
        (
            &["receive-logs-topic"],
            Some(usage_text(
                "no binding key given: name at least one, like kern.* or *.critical or #",
                "receive-logs-topic",
            )),
        ),
        (
            &["receive-logs-headers"],
            Some(usage_text(
                "no header to match: give at least one KEY=VALUE, like format=pdf",
                "receive-logs-headers",
            )),
        ),
        (
            &["receive-logs-headers", "plain"],
            Some(usage_text(
                "'plain' is not a header to match: write KEY=VALUE, like format=pdf",
                "receive-logs-headers",
            )),
        ),
        (
            &["receive-logs-headers", "--match", "some", "a=b"],
            Some(usage_text(
                "--match must be all or any, not 'some'",
                "receive-logs-headers",
            )),
        ),
        (
            &["emit-log-headers", "x-match=any", "hi"],
            Some(usage_text(
                "header 'x-match': names starting with x- are the broker's (use --match for \
                 x-match)",
                "emit-log-headers",
            )),
        ),
        (
            &["emit-log", "--stdin", "hello"],
            Some(usage_text(
                "emit-log --stdin reads the messages from stdin; remove 'hello' from the \
                 arguments",
                "emit-log",
            )),
        ),
        (
            &["bench", "--size", "8"],
            Some(usage_text(
                "--size must be at least 16 (sequence number and timestamp), not 8",
                "bench",
            )),
        ),
        (
            &["receive", "--count", "0"],
            Some(
                "error: invalid value '0' for --count: expected a whole number above 0, not '0'\n\
                 Run 'rabbit-ops --help' for usage.\n"
                    .to_owned(),
            ),
        ),
        (&["worker", "--timeout", "soon"], None),
        (&["no-such-command"], None),
        (&["rpc-client", "--concurrency", "0"], None),
    ];
    for (args, exact) in cases {
        let mut c = bin();
        c.arg("--url").arg(&url).args(args);
        let r = run(c);
        assert_eq!(r.code(), Some(2), "{args:?}: {r:?}");
        assert_eq!(r.stdout_text(), "", "{args:?}");
        assert!(!r.stderr.contains("cannot connect"), "{args:?}: {r:?}");
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {r:?}");
        assert!(lines[0].starts_with("error: "), "{args:?}: {r:?}");
        assert!(!lines[0].starts_with("error: error"), "{args:?}: {r:?}");
        assert!(lines[1].starts_with("Run 'rabbit-ops "), "{args:?}: {r:?}");
        if let Some(text) = exact {
            assert_eq!(r.stderr, text, "{args:?}");
        }
    }
    // A bad URL is a usage error too, with the password hidden.
    let mut c = bin();
    c.args(["--url", "amqp://u:hunter2@h:port/%2f", "send"]);
    let r = run(c);
    assert_eq!(r.code(), Some(2), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: bad AMQP URL 'amqp://u:***@h:port/%2f': Ports must be integers (got 'port').\n\
         Run 'rabbit-ops --help' for usage.\n"
    );
}

#[test]
fn help_lists_every_tutorial_command() {
    let mut c = bin();
    c.arg("--help");
    let r = run(c);
    assert_eq!(r.code(), Some(0), "{r:?}");
    for cmd in [
        "send",
        "receive",
        "new-task",
        "worker",
        "emit-log",
        "receive-logs",
        "emit-log-direct",
        "receive-logs-direct",
        "emit-log-topic",
        "receive-logs-topic",
        "emit-log-headers",
        "receive-logs-headers",
        "rpc-server",
        "rpc-client",
        "publisher-confirms",
    ] {
        assert!(
            r.lines()
                .iter()
                .any(|l| l.split_whitespace().next() == Some(cmd)),
            "{cmd} missing from help"
        );
    }
}
