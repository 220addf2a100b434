//! `redis-ops ping`: a real round trip (PING, SET, GET, DEL), several targets at once,
//! `--wait`, `--json`, and every reason a check fails as its own line: nothing listening, a
//! server that never answers, a server still loading, not Redis (RabbitMQ, an echo server, a
//! banner), a wrong or missing password, a cluster with slots not covered. Nothing is left
//! behind.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::{Duration, Instant};

use crate::cluster::NODE;
use crate::support::*;

/// `redis-ops args` (no `--url`, no `$REDIS_URL`) to its end.
fn ping(args: &[&str]) -> Run {
    run_with(bare().args(args), b"", Duration::from_mins(1))
}

/// A server on 127.0.0.1 (a port of its own, for the whole test run) that sends `banner` to
/// every connection, then answers each read with `answer(what it read)`.
fn fake_server(banner: &'static [u8], answer: fn(&[u8]) -> Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            thread::spawn(move || {
                let _ = conn.write_all(banner);
                let mut buf = [0u8; 4096];
                while let Ok(n) = conn.read(&mut buf) {
                    if n == 0 || conn.write_all(&answer(&buf[..n])).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

fn url_of(addr: SocketAddr) -> String {
    format!("redis://{addr}/0")
}

fn dbsize(r: &PrivateRedis) -> i64 {
    redis::cmd("DBSIZE").query(&mut r.conn()).unwrap()
}

/// `ok <url>: Redis 7.0.15, round trip 0.4 ms`.
fn assert_ok_line(line: &str, url: &str) {
    let rest = line
        .strip_prefix(&format!("ok {url}: "))
        .unwrap_or_else(|| panic!("{line}"));
    let (server, round_trip) = rest.split_once(", round trip ").expect(line);
    assert!(
        server.starts_with("Redis ") || server.starts_with("Valkey "),
        "{line}"
    );
    assert!(
        round_trip.ends_with(" ms") || round_trip.ends_with(" s"),
        "{line}"
    );
}

#[test]
fn the_shared_redis_passes_and_nothing_is_left() {
    let mut conn = redis();
    let mut p = Proc::spawn(bare().args(["--url", &url(), "ping"]));
    let pid = p.pid();
    let line = p.first_line(STEP);
    assert_ok_line(&line, &url());
    let out = p.finish(STEP);
    assert!(out.success() && out.stderr.is_empty(), "{out:?}");
    let left = scan_keys(&mut conn, &format!("redis-ops:ping:{pid}-*"));
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn several_targets_at_once_and_json() {
    let _ = redis();
    let refused = url_of(refused_addr());
    let out = ping(&["ping", &url(), &refused]);
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert_eq!(out.lines().len(), 1, "{out:?}");
    assert_ok_line(&out.lines()[0], &url());
    assert_eq!(
        out.stderr,
        format!("error: {refused}: connection refused\n")
    );

    let out = ping(&["ping", "--json", &url(), &refused]);
    assert_eq!(out.code(), Some(1), "{out:?}");
    let objects: Vec<serde_json::Value> = out
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[0]["target"], url());
    assert_eq!(objects[0]["ok"], true);
    assert!(objects[0]["round_trip_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(objects[0]["attempts"], 1);
    assert_eq!(objects[1]["ok"], false);
    assert_eq!(objects[1]["server"], serde_json::Value::Null);
    assert_eq!(
        objects[1]["error"],
        format!("{refused}: connection refused")
    );
    // Issue 22.6: with --json too, a failed target's error line is on stderr (as rabbit-ops
    // and echo-client print it).
    assert_eq!(
        out.stderr,
        format!("error: {refused}: connection refused\n")
    );
}

/// The readiness use: the server comes up two seconds after `ping --wait 10` starts.
#[test]
fn a_server_started_two_seconds_later_passes() {
    let mut r = PrivateRedis::start();
    r.kill();
    let started = Instant::now();
    let p = Proc::spawn(bare().args(["--url", &r.url(), "ping", "--wait", "10"]));
    thread::sleep(Duration::from_secs(2));
    r.restart(Duration::ZERO);
    let out = p.finish(Duration::from_secs(15));
    assert!(out.success(), "{out:?}");
    assert_ok_line(&out.lines()[0], &r.url());
    assert!(out.stderr.is_empty(), "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "{out:?}");
    assert_eq!(dbsize(&r), 0, "the key was deleted");
}

#[test]
fn a_server_never_started_fails_within_the_deadline_plus_a_second() {
    let url = url_of(refused_addr());
    let out = ping(&["--url", &url, "ping", "--wait", "2"]);
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert!(out.took < Duration::from_secs(3), "{out:?}");
    assert!(
        out.stderr
            .starts_with(&format!("error: {url} not ready after 2."))
            && out.stderr.ends_with(" s: connection refused\n")
            && out.stderr.lines().count() == 1,
        "{out:?}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_server_that_never_answers_is_bounded_by_the_timeout() {
    let (_silent, addr) = test_support::silent_listener();
    let url = url_of(addr);
    let out = ping(&["--url", &url, "--timeout", "1", "ping"]);
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert_eq!(
        out.stderr,
        format!("error: {url}: no answer to PING within 1.0 s\n")
    );
    assert!(out.took < Duration::from_secs(3), "{out:?}");
}

#[test]
fn loading_is_not_ready_yet() {
    let url = url_of(fake_server(b"", |_| {
        b"-LOADING Redis is loading the dataset in memory\r\n".to_vec()
    }));
    let out = ping(&["ping", &url]);
    assert_eq!(
        out.stderr,
        format!(
            "error: {url}: still loading its data (LOADING Redis is loading the dataset in memory)\n"
        )
    );
    let out = ping(&["ping", "--wait", "1", "--json", &url]);
    assert_eq!(out.code(), Some(1), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["attempts"].as_u64().unwrap() > 1, "{json}");
    let error = json["error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!("{url} not ready after 1."))
            && error.ends_with(
                " s: still loading its data (LOADING Redis is loading the dataset in memory)"
            ),
        "{error}"
    );
}

/// `ping [options] <url>` fails with exit 1 and exactly `error: <url>: not Redis: the answer to
/// PING was <answer>`.
fn assert_not_redis(options: &[&str], url: &str, answer: &str) -> Run {
    let out = ping(&[&["ping"], options, &[url]].concat());
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert_eq!(
        out.stderr,
        format!("error: {url}: not Redis: the answer to PING was {answer}\n")
    );
    out
}

#[test]
fn something_that_is_not_redis_says_what_it_is() {
    let echo = url_of(fake_server(b"", <[u8]>::to_vec));
    assert_not_redis(
        &[],
        &echo,
        r#""*1\r\n$4\r\nPING\r\n" (it echoes what it is sent)"#,
    );
    let ssh = url_of(fake_server(b"SSH-2.0-OpenSSH_9.2p1\r\n", |_| Vec::new()));
    assert_not_redis(&[], &ssh, r#""SSH-2.0-OpenSSH_9.2p1\r\n" (an SSH server)"#);
    // A banner with no line end at all, and --wait: a permanent no, at once.
    let banner = url_of(fake_server(b"220 welcome", |_| Vec::new()));
    let out = assert_not_redis(&["--wait", "10"], &banner, r#""220 welcome""#);
    assert!(out.took < Duration::from_secs(5), "{out:?}");
}

#[test]
fn rabbitmq_is_not_redis() {
    let amqp = test_support::require_rabbit();
    let authority = amqp.split("://").nth(1).unwrap().split('/').next().unwrap();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    assert_not_redis(
        &[],
        &format!("redis://{host_port}/0"),
        r#""AMQP\x00\x00\t\x01" (an AMQP broker, RabbitMQ?)"#,
    );
}

#[test]
fn passwords_wrong_missing_and_right() {
    let r = PrivateRedis::start();
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg("s3cret")
        .query::<()>(&mut r.conn())
        .unwrap();
    let port = r.port();
    let wrong = format!("redis://:hunter2@127.0.0.1:{port}/0");
    let out = ping(&["ping", "--wait", "10", &wrong]);
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert_eq!(
        out.stderr,
        format!(
            "error: redis://:***@127.0.0.1:{port}/0: wrong password or user name (WRONGPASS invalid username-password pair or user is disabled.)\n"
        )
    );
    assert!(out.took < Duration::from_secs(5), "a permanent no: {out:?}");
    let out = ping(&["ping", &r.url()]);
    assert_eq!(
        out.stderr,
        format!(
            "error: {}: the server needs a password (NOAUTH Authentication required.)\n",
            r.url()
        )
    );
    let right = format!("redis://:s3cret@127.0.0.1:{port}/2");
    let out = ping(&["ping", &right]);
    assert!(out.success(), "{out:?}");
    assert_ok_line(&out.lines()[0], &format!("redis://:***@127.0.0.1:{port}/2"));
    assert!(!out.stdout_text().contains("s3cret") && !out.stderr.contains("hunter2"));
}

#[test]
fn a_cluster_with_slots_not_covered_then_covered() {
    let r = PrivateRedis::start_with(&NODE);
    let node = format!("redis://127.0.0.1:{}", r.port());
    redis::cmd("CLUSTER")
        .arg("ADDSLOTSRANGE")
        .arg(0)
        .arg(8191)
        .query::<()>(&mut r.conn())
        .unwrap();
    let out = ping(&["--cluster", &node, "ping"]);
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert_eq!(
        out.stderr,
        format!("error: {node}: cluster_state:fail, slots not covered: 8192-16383\n")
    );
    redis::cmd("CLUSTER")
        .arg("ADDSLOTSRANGE")
        .arg(8192)
        .arg(16383)
        .query::<()>(&mut r.conn())
        .unwrap();
    let out = ping(&["--cluster", &node, "ping", "--wait", "10"]);
    assert!(out.success(), "{out:?}");
    let line = &out.lines()[0];
    assert!(
        line.starts_with(&format!("ok {node}: Redis "))
            && line.contains(", cluster of 1 master, round trip "),
        "{line}"
    );
    assert_eq!(dbsize(&r), 0, "the key was deleted");

    // A server without cluster support, checked as a cluster.
    let _ = redis();
    let out = ping(&["--cluster", &url(), "ping"]);
    assert_eq!(
        out.stderr,
        format!(
            "error: {}: not a cluster node (ERR This instance has cluster support disabled)\n",
            url()
        )
    );
}

#[test]
fn a_signal_ends_the_waiting_with_130() {
    let url = url_of(refused_addr());
    let mut p = Proc::spawn(bare().args(["ping", "--wait", "30", &url]));
    thread::sleep(Duration::from_millis(500));
    p.interrupt();
    let out = p.finish(STEP);
    assert_eq!(out.code(), Some(130), "{out:?}");
    assert!(
        out.stderr
            .starts_with(&format!("error: {url} not ready when interrupted after "))
            && out.stderr.ends_with(" s: connection refused\n"),
        "{out:?}"
    );
}

#[test]
fn usage_errors_and_a_closed_stdout() {
    let out = ping(&[
        "--url",
        "redis://127.0.0.1:1/0",
        "ping",
        "redis://127.0.0.1:2/0",
    ]);
    assert_eq!(out.code(), Some(2), "{out:?}");
    assert_eq!(
        out.stderr,
        "error: ping: give the URLs after ping, or --url or --cluster, not both\nRun 'redis-ops --help' for usage.\n"
    );
    let out = ping(&["ping", "--wait", "soon"]);
    assert_eq!(out.code(), Some(2), "{out:?}");
    assert_eq!(
        out.stderr,
        "error: invalid value 'soon' for --wait: expected a number of seconds, 0 or more, like 5 or 0.5, not 'soon'\nRun 'redis-ops --help' for usage.\n"
    );

    // `ping | head -c0`: the check is its job; the exit code says how it went.
    let _ = redis();
    let out = test_support::run_with_closed_stdout(bare().args(["ping", &url()]), b"", STEP);
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
}
