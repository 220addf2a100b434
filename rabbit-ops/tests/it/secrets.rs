//! Issue 22 (item 1): a secret the broker echoes. The fake broker (`fake_broker.rs`) answers
//! our start-ok with a connection.close whose text quotes the password it got, as an auth
//! backend's error may. Every line we print of it, on stderr and in `ping --json`, shows `***`
//! in its place: one line, exit 1.

use crate::fake_broker::{Lie, fake_broker};
use crate::support::{at, run};

const PASSWORD: &str = "s3cret-Pw.42";

fn url(addr: std::net::SocketAddr) -> String {
    format!("amqp://guest:{PASSWORD}@{addr}/%2f")
}

#[test]
fn a_password_the_broker_echoes_is_printed_as_stars() {
    let (addr, _) = fake_broker(Lie::EchoPassword);
    for args in [
        vec!["send"],
        vec!["receive", "--count", "1"],
        vec!["new-task", "x"],
        vec!["ping"],
    ] {
        let mut all = vec!["--connect-timeout", "3"];
        all.extend(&args);
        let r = run(at(&url(addr), &all));
        assert_eq!(r.code(), Some(1), "{args:?}: {r:?}");
        let err = r.stderr.clone();
        assert!(!err.contains(PASSWORD), "{args:?}: {err}");
        assert!(!r.stdout_text().contains(PASSWORD), "{args:?}: {r:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(err.contains("password '***' refused"), "{args:?}: {err}");
    }
}

/// `ping` with two nodes: the first failure is a line of its own (before the last one, the
/// error of the exit), and `--json` carries each failure's text on stdout.
#[test]
fn ping_lines_and_json_hide_an_echoed_password() {
    let (a, _) = fake_broker(Lie::EchoPassword);
    let (b, _) = fake_broker(Lie::EchoPassword);
    for json in [false, true] {
        let mut c = crate::support::bin();
        c.args(["--url", &url(a), "--url", &url(b), "ping", "--timeout", "3"]);
        if json {
            c.arg("--json");
        }
        let r = run(c);
        assert_eq!(r.code(), Some(1), "json {json}: {r:?}");
        let err = r.stderr.clone();
        let out = r.stdout_text();
        assert!(!err.contains(PASSWORD), "json {json}: {err}");
        assert!(!out.contains(PASSWORD), "json {json}: {out}");
        assert_eq!(err.lines().count(), 2, "a line per node: {err}");
        if json {
            assert_eq!(out.lines().count(), 2, "{out}");
            assert!(out.contains("password '***' refused"), "{out}");
        }
    }
}

/// The logs (`-vvv`: ours and amiquip's, at trace) hide it too.
#[test]
fn the_logs_hide_an_echoed_password() {
    let (addr, _) = fake_broker(Lie::EchoPassword);
    let r = run(at(&url(addr), &["-vvv", "--connect-timeout", "3", "send"]));
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert!(r.stderr.lines().count() > 1, "logs: {r:?}");
    assert!(!r.stderr.contains(PASSWORD), "{}", r.stderr);
    assert!(r.stderr.contains("password '***' refused"), "{}", r.stderr);
}
