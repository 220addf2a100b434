//! `rabbit-ops ping`: a real round trip per node, one line each; waiting for a node that is
//! booting; each reason a node fails its own line, at once when waiting cannot help.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use test_support::{
    ErlangHome, Proc, RabbitNode, Run, STEP, refused_addr, require_rabbit, require_redis,
    silent_listener,
};

use crate::support::{at, bin, run, with};

/// `rabbit-ops --url URL... ping args...`
/// One failed target: exit 1, exactly `stderr`, in less than `within`.
fn failed(r: &Run, stderr: &str, within: Duration) {
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert_eq!(r.stderr, stderr);
    assert!(r.took < within, "{:?}", r.took);
}

fn ping(urls: &[&str], args: &[&str]) -> std::process::Command {
    let mut c = bin();
    for u in urls {
        c.arg("--url").arg(u);
    }
    c.arg("ping").args(args);
    c
}

/// The shared broker's URL as `ping` shows it.
fn shown(url: &str) -> String {
    common::redact::redact_url(url)
}

/// Checks an `ok` line: `ok <url>: RabbitMQ <version>, round trip <d>`.
fn assert_ok_line(line: &str, url: &str) {
    let prefix = format!("ok {}: RabbitMQ ", shown(url));
    assert!(
        line.starts_with(&prefix),
        "{line:?} does not start {prefix:?}"
    );
    assert!(line.contains(", round trip "), "{line}");
    assert!(line.ends_with(" ms") || line.ends_with(" s"), "{line}");
}

#[test]
fn a_round_trip_through_the_shared_broker() {
    let url = require_rabbit();
    let r = run(ping(&[&url, &url], &[]));
    assert_eq!(r.code(), Some(0), "{r:?}");
    assert_eq!(r.stderr, "");
    let lines = r.lines();
    assert_eq!(lines.len(), 2, "{r:?}");
    for line in &lines {
        assert_ok_line(line, &url);
    }

    let r = run(ping(&[&url], &["--json"]));
    assert_eq!(r.code(), Some(0), "{r:?}");
    let json: serde_json::Value = serde_json::from_str(r.lines()[0].as_str()).unwrap();
    assert_eq!(json["target"], shown(&url));
    assert_eq!(json["ok"], true);
    assert!(
        json["server"].as_str().unwrap().starts_with("RabbitMQ "),
        "{json}"
    );
    assert!(json["round_trip_ms"].as_f64().unwrap() > 0.0, "{json}");
    assert_eq!(json["attempts"], 1);
    assert_eq!(json["error"], serde_json::Value::Null);
}

#[test]
fn every_node_must_pass_and_each_failure_is_its_own_line() {
    let url = require_rabbit();
    let port = refused_addr().port();
    let down = format!("amqp://guest:guest@127.0.0.1:{port}/%2f");
    let r = run(ping(&[&url, &down], &[]));
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert_ok_line(&r.lines()[0], &url);
    assert_eq!(
        r.stderr,
        format!("error: amqp://guest:***@127.0.0.1:{port}/%2f: connection refused\n")
    );

    let r = run(ping(&[&down, &down], &["--json"]));
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert_eq!(r.lines().len(), 2, "{r:?}");
    let json: serde_json::Value = serde_json::from_str(r.lines()[1].as_str()).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["server"], serde_json::Value::Null);
    assert_eq!(
        json["error"],
        format!("amqp://guest:***@127.0.0.1:{port}/%2f: connection refused")
    );
    assert_eq!(r.stderr_lines().len(), 2, "{r:?}");
}

#[test]
fn a_wrong_password_or_a_missing_vhost_fails_at_once_even_when_waiting() {
    let bad = with("nobody-here:wrong", "%2f");
    let r = run(ping(&[&bad], &["--wait", "30"]));
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "error: {}: access refused for user 'nobody-here': check the user name and password \
             in --url or $AMQP_URL\n",
            shown(&bad)
        )
    );
    // RabbitMQ answers a failed login after 3 s (on purpose); no waiting on top.
    assert!(r.took < Duration::from_secs(8), "{:?}", r.took);

    let base = rabbit_ops::url::AmqpUrl::parse(&require_rabbit()).unwrap();
    let vhost = test_support::unique("test-no-vhost");
    let missing = with(&format!("{}:{}", base.user, base.password), &vhost);
    let r = run(ping(&[&missing], &["--wait", "30"]));
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "error: {}: virtual host '{vhost}' does not exist: create it (rabbitmqctl add_vhost \
             {vhost}) or fix the path of the URL\n",
            shown(&missing)
        )
    );
    assert!(r.took < Duration::from_secs(5), "{:?}", r.took);
}

#[test]
fn redis_is_not_amqp() {
    // Redis waits for a line that the AMQP protocol header never ends: silence.
    let redis = require_redis();
    let authority = redis
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let target = if host_port.contains(':') {
        format!("amqp://{host_port}")
    } else {
        format!("amqp://{host_port}:6379")
    };
    let r = run(ping(&[&target], &["--timeout", "1"]));
    let silent =
        format!("error: {target}: no AMQP handshake within 1.0 s: is this a RabbitMQ port?\n");
    failed(&r, &silent, Duration::from_secs(4));
}

#[test]
fn a_server_with_a_banner_is_not_amqp_and_waiting_does_not_help() {
    let (listener, addr) = silent_listener();
    let server = std::thread::spawn(move || {
        // Answers every connection with an SSH banner, then waits for the client to go.
        let (mut s, _) = listener.accept().unwrap();
        let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let _ = s.read(&mut [0u8; 64]);
    });
    let target = format!("amqp://127.0.0.1:{}", addr.port());
    let r = run(ping(&[&target], &["--wait", "30", "--timeout", "2"]));
    let banner =
        format!("error: {target}: the peer does not speak AMQP 0-9-1: is this a RabbitMQ port?\n");
    failed(&r, &banner, Duration::from_secs(5));
    server.join().unwrap();
}

#[test]
fn a_server_that_accepts_and_never_answers_is_bounded_by_the_timeout() {
    let (_listener, addr) = silent_listener();
    let target = format!("amqp://127.0.0.1:{}", addr.port());
    let r = run(ping(&[&target], &["--timeout", "1"]));
    let silent =
        format!("error: {target}: no AMQP handshake within 1.0 s: is this a RabbitMQ port?\n");
    failed(&r, &silent, Duration::from_secs(3));

    // Waiting: tried again until --wait runs out, then how long it waited.
    let r = run(ping(&[&target], &["--timeout", "1", "--wait", "2"]));
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert!(
        r.stderr
            .starts_with(&format!("error: {target} not ready after ")),
        "{r:?}"
    );
    // The last attempt is cut at the end of the wait: its reason is that, or the handshake's.
    assert_eq!(r.stderr_lines().len(), 1, "{r:?}");
    assert!(
        r.stderr.contains(" s: no answer within ")
            || r.stderr.contains(" s: no AMQP handshake within "),
        "{r:?}"
    );
    assert!(r.took < Duration::from_secs(5), "{:?}", r.took);
}

#[test]
fn a_node_never_started_fails_within_the_wait_plus_one_second() {
    let port = refused_addr().port();
    let url = format!("amqp://guest:guest@127.0.0.1:{port}/%2f");
    let r = run(ping(&[&url], &["--wait", "3"]));
    assert_eq!(r.code(), Some(1), "{r:?}");
    let prefix = format!("error: amqp://guest:***@127.0.0.1:{port}/%2f not ready after 3.");
    assert!(r.stderr.starts_with(&prefix), "{r:?}");
    assert!(r.stderr.ends_with(" s: connection refused\n"), "{r:?}");
    assert!(r.took >= Duration::from_secs(3), "{:?}", r.took);
    assert!(r.took < Duration::from_secs(4), "{:?}", r.took);
}

#[test]
fn ctrl_c_ends_the_waiting_with_130() {
    let port = refused_addr().port();
    let url = format!("amqp://guest:guest@127.0.0.1:{port}/%2f");
    let mut p = Proc::spawn(&mut ping(&[&url], &["--wait", "60"]));
    std::thread::sleep(Duration::from_secs(1));
    p.interrupt();
    let r = p.finish(STEP);
    assert_eq!(r.code(), Some(130), "{r:?}");
    assert!(
        r.stderr.starts_with(&format!(
            "error: amqp://guest:***@127.0.0.1:{port}/%2f not ready when interrupted after "
        )),
        "{r:?}"
    );
    assert!(r.stderr.ends_with(" s: connection refused\n"), "{r:?}");
    assert!(r.took < Duration::from_secs(5), "{:?}", r.took);
}

#[test]
fn a_node_that_boots_while_ping_waits_passes_and_keeps_no_queue() {
    let home = ErlangHome::new();
    // The node's port may turn out to be taken, and the node restarted on another: then ping
    // waited on the wrong port, and the scenario runs again.
    for _ in 0..3 {
        let mut node = RabbitNode::start(&home);
        let url = node.url();
        let started = Instant::now();
        // ping begins while the node is still booting (it takes seconds).
        let pinging = Proc::spawn(&mut at(&url, &["ping", "--wait", "60", "--json"]));
        node.wait_ready(RabbitNode::BOOT);
        if node.url() != url {
            continue;
        }
        let r = pinging.finish(Duration::from_secs(90));
        assert_eq!(r.code(), Some(0), "{r:?}");
        let json: serde_json::Value = serde_json::from_str(r.lines()[0].as_str()).unwrap();
        assert_eq!(json["ok"], true, "{json}");
        assert!(json["attempts"].as_u64().unwrap() > 1, "{json}");
        let r = run(at(&url, &["ping"]));
        assert_eq!(r.code(), Some(0), "{r:?}");
        assert_ok_line(&r.lines()[0], &url);
        // Nothing left behind: the exclusive queues went with their connections.
        let queues = node.ctl(&["list_queues", "-q", "--no-table-headers", "name"]);
        assert_eq!(queues.stdout_text().trim(), "", "{queues:?}");
        println!(
            "node ready for ping after {:.1} s, {} attempts",
            started.elapsed().as_secs_f64(),
            json["attempts"]
        );
        return;
    }
    panic!("the node's port was taken three times");
}
