//! Issue 13: hostile input, hostile peers, signals. Every test asserts the exit code, the one
//! error line, and the time taken (and the memory where that is the point). Fake AMQP peers
//! are written here: they complete as much of the handshake as the test needs, then stall or
//! lie.

use std::time::Duration;

use test_support::require_rabbit;

use crate::support::{bin, run};

/// Every verbosity and `RUST_LOG=trace`, the password from `--url` or `$AMQP_URL`, wrong or
/// right: no credential in what we print (amiquip's handshake trace has the SASL response).
#[test]
fn no_password_at_any_verbosity() {
    let shared = require_rabbit();
    let url = rabbit_ops::url::AmqpUrl::parse(&shared).unwrap();
    let host = format!("{}:{}", url.host, url.port);
    let wrong = format!("amqp://{}:Wr0ng-s3cret@{host}/%2f", url.user);
    for (target, password) in [
        (shared.as_str(), url.password.as_str()),
        (&wrong, "Wr0ng-s3cret"),
    ] {
        for how in ["-vvv", "RUST_LOG=trace"] {
            for from_env in [false, true] {
                let mut c = bin();
                if how == "RUST_LOG=trace" {
                    c.env("RUST_LOG", "trace");
                } else {
                    c.arg(how);
                }
                if from_env {
                    c.env("AMQP_URL", target);
                } else {
                    c.arg("--url").arg(target);
                }
                c.args(["ping", "--timeout", "5"]);
                let r = run(c);
                let ok = target == shared;
                assert_eq!(r.code(), Some(i32::from(!ok)), "{r:?}");
                assert!(r.stderr.lines().count() > 5, "{how}: no logs? {r:?}");
                let sasl = format!("\\u{{0}}{}\\u{{0}}", url.user);
                for secret in [sasl.as_str(), "StartOk", "response: \""] {
                    assert!(
                        !r.stderr.contains(secret),
                        "{how}: {secret:?} in {}",
                        r.stderr
                    );
                }
                let shown = r.stderr.replace(&format!("{}:***@", url.user), "");
                if password != url.user {
                    assert!(!shown.contains(password), "{how}: password in {}", r.stderr);
                }
            }
        }
    }
}

/// URLs of odd shapes: their errors never print the password, from `--url` or `$AMQP_URL`.
#[test]
fn malformed_urls_never_print_their_password() {
    for (url, secret) in [
        ("amqp://u:Pw1secret/x@host", "Pw1secret"),
        ("amqp://u:Pw2secret?x@host", "Pw2secret"),
        ("amqp://u:Pw3secret#x@host", "Pw3secret"),
        (":Pw4secret@host:5672", "Pw4secret"),
        ("amqp://:Pw5secret/x@host", "Pw5secret"),
        ("amqp://u:Pw6secret@[::1", "Pw6secret"),
        ("amqp://u:98765432/x@host", "98765432"),
        ("amqps://u:Pw7secret@host", "Pw7secret"),
    ] {
        for from_env in [false, true] {
            let mut c = bin();
            c.arg("-vv");
            if from_env {
                c.env("AMQP_URL", url);
            } else {
                c.arg("--url").arg(url);
            }
            c.args(["send", "--queue", "never-declared"]);
            let r = run(c);
            assert_ne!(r.code(), Some(0), "{url}: {r:?}");
            assert!(!r.stderr.contains(secret), "{url} ({secret}): {}", r.stderr);
            assert!(r.took < Duration::from_secs(6), "{url}: {:?}", r.took);
        }
    }
}
