//! `set`, `get`, `incr`, and the command line's errors: unreachable server, timeout,
//! redaction, malformed URL, wrong types, conflicting flags.

use std::time::{Duration, Instant};

use crate::support::*;
use redis::Commands;

struct Cleanup(Vec<String>);
impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Ok(client) = redis::Client::open(url().as_str())
            && let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(2))
        {
            let _: redis::RedisResult<()> = conn.del(&self.0);
        }
    }
}

#[test]
fn set_then_get_prints_the_value() {
    let mut conn = redis();
    let key = unique("text");
    let _c = Cleanup(vec![key.clone()]);
    let out = run(&["set", &key, "hello world"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "OK\n");
    let stored: Vec<u8> = conn.get(&key).unwrap();
    assert_eq!(stored, b"hello world");
    let out = run(&["get", &key]);
    assert!(out.status.success());
    // Not a terminal: exactly the bytes, no newline added.
    assert_eq!(out.stdout, b"hello world");
}

/// argv must be UTF-8, so arbitrary bytes go in with `set KEY --stdin`; `get` writes them
/// back byte for byte.
#[test]
fn binary_values_round_trip_byte_for_byte() {
    let mut conn = redis();
    let key = unique("bin");
    let _c = Cleanup(vec![key.clone()]);
    let mut value: Vec<u8> = (0..=255u8).collect();
    value.extend_from_slice(b"\r\n\0\xff\xfe tail\n");
    let mut set = cmd();
    set.args(["set", &key, "--stdin"]);
    let out = run_with(&mut set, &value, Duration::from_secs(30));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stored: Vec<u8> = conn.get(&key).unwrap();
    assert_eq!(stored, value, "Redis holds other bytes than were sent");

    let out = run(&["get", &key]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout, value);

    // Bytes another client stored come out unchanged too.
    let _: () = conn.set(&key, b"\x00\x80\xc3\x28".as_slice()).unwrap();
    assert_eq!(run(&["get", &key]).stdout, b"\x00\x80\xc3\x28");
}

#[test]
fn a_missing_key_is_nil_on_stderr_and_exit_1() {
    let _ = redis();
    let out = run(&["get", &unique("missing")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "(nil)\n");
    assert!(out.stdout.is_empty());
}

#[test]
fn nx_only_sets_new_keys() {
    let mut conn = redis();
    let key = unique("nx");
    let _c = Cleanup(vec![key.clone()]);
    assert!(run(&["set", &key, "first", "--nx"]).status.success());
    let out = run(&["set", &key, "second", "--nx"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("error: not set: key '{key}' already exists (--nx)\n")
    );
    assert!(out.stdout.is_empty());
    let v: String = conn.get(&key).unwrap();
    assert_eq!(v, "first");
}

#[test]
fn xx_only_sets_existing_keys() {
    let mut conn = redis();
    let key = unique("xx");
    let _c = Cleanup(vec![key.clone()]);
    let out = run(&["set", &key, "v", "--xx"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("error: not set: key '{key}' does not exist (--xx)\n")
    );
    let exists: bool = conn.exists(&key).unwrap();
    assert!(!exists);
    let _: () = conn.set(&key, "old").unwrap();
    assert!(run(&["set", &key, "new", "--xx"]).status.success());
    let v: String = conn.get(&key).unwrap();
    assert_eq!(v, "new");
}

#[test]
fn ex_and_px_set_a_time_to_live() {
    let mut conn = redis();
    let (a, b) = (unique("ex"), unique("px"));
    let _c = Cleanup(vec![a.clone(), b.clone()]);
    assert!(run(&["set", &a, "v", "--ex", "100"]).status.success());
    let ttl: i64 = conn.ttl(&a).unwrap();
    assert!((90..=100).contains(&ttl), "TTL {ttl}");
    assert!(
        run(&["set", &b, "v", "--px", "100000", "--nx"])
            .status
            .success()
    );
    let pttl: i64 = conn.pttl(&b).unwrap();
    assert!((90_000..=100_000).contains(&pttl), "PTTL {pttl}");
    // A plain SET removes the TTL, as in Redis.
    assert!(run(&["set", &a, "w"]).status.success());
    let ttl: i64 = conn.ttl(&a).unwrap();
    assert_eq!(ttl, -1);
}

#[test]
fn conflicting_or_missing_set_arguments_are_usage_errors() {
    for (args, message) in [
        (
            vec!["--ex", "1", "--px", "5"],
            "error: set: give --ex or --px, not both\nRun 'redis-ops --help' for usage.\n",
        ),
        (
            vec!["--nx", "--xx"],
            "error: set: give --nx or --xx, not both\nRun 'redis-ops --help' for usage.\n",
        ),
        (
            vec!["--ex", "0"],
            "error: set: the expiry must be at least 1\nRun 'redis-ops --help' for usage.\n",
        ),
    ] {
        let mut all = vec!["set", "k", "v"];
        all.extend(args);
        let out = run(&all);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        assert_eq!(text(&out.stderr), message);
    }
    let out = run(&["set", "k"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: set: give a VALUE (or --stdin)\nRun 'redis-ops --help' for usage.\n"
    );
}

#[test]
fn wrong_type_is_one_line_and_exit_1() {
    let mut conn = redis();
    let key = unique("hash");
    let _c = Cleanup(vec![key.clone()]);
    let _: () = conn.hset(&key, "f", "v").unwrap();
    let out = run(&["get", &key]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: GET {key}: WRONGTYPE Operation against a key holding the wrong kind of value\n"
        )
    );
}

#[test]
fn incr_counts_and_refuses_non_integers() {
    let mut conn = redis();
    let (n, s) = (unique("n"), unique("s"));
    let _c = Cleanup(vec![n.clone(), s.clone()]);
    assert_eq!(run(&["incr", &n]).stdout, b"1\n");
    assert_eq!(run(&["incr", &n, "--by", "41"]).stdout, b"42\n");
    assert_eq!(run(&["incr", &n, "--by", "-2"]).stdout, b"40\n");
    let _: () = conn.set(&s, "abc").unwrap();
    let out = run(&["incr", &s]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("error: INCRBY {s} 1: ERR value is not an integer or out of range\n")
    );
    let v: String = conn.get(&s).unwrap();
    assert_eq!(v, "abc");
}

#[test]
fn a_malformed_url_is_a_usage_error() {
    for url in ["foo", "redis://host:port/0", "redis://127.0.0.1:6379/zero"] {
        let mut c = bare();
        c.args(["--url", url, "get", "k"]);
        let out = run_with(&mut c, b"", Duration::from_secs(30));
        assert_eq!(out.status.code(), Some(2), "{url}");
        let err = text(&out.stderr);
        assert!(
            err.starts_with(&format!("error: bad Redis URL '{url}': "))
                && err.lines().count() == 2
                && err.ends_with("\nRun 'redis-ops --help' for usage.\n"),
            "{err}"
        );
    }
}

#[test]
fn a_refused_connection_is_one_line_and_exit_1() {
    let port = closed_port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let mut c = bare();
    c.args(["--url", &url, "get", "k"]);
    let out = run_with(&mut c, b"", Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("error: cannot connect to {url}: connection refused\n")
    );
}

/// A server that accepts the connection but never answers: the connect timeout ends it.
#[test]
fn a_silent_server_times_out_instead_of_hanging() {
    let (_silent, addr) = test_support::silent_listener();
    let url = format!("redis://{addr}/0");
    for command in [
        &["get", "k"][..],
        &["lesson", "strings"],
        &["subscribe", "ch"],
    ] {
        let mut c = bare();
        c.args(["--url", &url, "--timeout", "1"]).args(command);
        let started = Instant::now();
        let out = run_with(&mut c, b"", Duration::from_secs(30));
        assert_eq!(out.status.code(), Some(1), "{command:?}");
        assert_eq!(
            text(&out.stderr),
            format!("error: cannot connect to {url}: timed out after 1.0 s\n"),
            "{command:?}"
        );
        // Bounded by the timeout (with room for a loaded machine), not a hang.
        assert!(started.elapsed() < Duration::from_secs(15), "{command:?}");
    }
}

#[test]
fn the_password_never_shows() {
    let port = closed_port();
    let url = format!("redis://:hunter2@127.0.0.1:{port}/0");
    let mut c = bare();
    c.args(["-vv", "--url", &url, "get", "k"]);
    let out = run_with(&mut c, b"", Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.ends_with(&format!(
            "error: cannot connect to redis://:***@127.0.0.1:{port}/0: connection refused\n"
        )),
        "{err}"
    );
    assert!(!err.contains("hunter2") && !text(&out.stdout).contains("hunter2"));

    // From $REDIS_URL, and in a malformed URL, too.
    let mut c = bare();
    c.env(
        "REDIS_URL",
        format!("redis://user:hunter2@127.0.0.1:{port}/x"),
    )
    .args(["get", "k"]);
    let out = run_with(&mut c, b"", Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("redis://user:***@127.0.0.1") && !err.contains("hunter2"),
        "{err}"
    );
}

#[test]
fn redis_url_is_the_default_url() {
    let port = closed_port();
    let mut c = bare();
    c.env("REDIS_URL", format!("redis://127.0.0.1:{port}/0"))
        .args(["get", "k"]);
    let out = run_with(&mut c, b"", Duration::from_secs(30));
    assert_eq!(
        text(&out.stderr),
        format!("error: cannot connect to redis://127.0.0.1:{port}/0: connection refused\n")
    );
}

#[test]
fn a_bad_timeout_is_a_usage_error() {
    for t in ["0", "-1", "nan"] {
        let out = run(&["--timeout", t, "get", "k"]);
        assert_eq!(out.status.code(), Some(2), "--timeout {t}");
        assert!(
            text(&out.stderr).starts_with("error: "),
            "{}",
            text(&out.stderr)
        );
    }
}

/// The bounds and the seconds parser: exactly `error: <what>` and the help line, exit 2, before
/// anything connects (the URL points nowhere).
#[test]
fn bounds_and_seconds_are_usage_errors_with_the_help_line() {
    let nowhere = format!("redis://127.0.0.1:{}/0", closed_port());
    for (args, what) in [
        (&["bench", "-c", "20000"][..], "bench: -c is at most 10000"),
        (
            &["bench", "-c", "100", "-P", "1000", "-d", "100000"],
            "bench: -c 100 x -P 1000 x -d 100000 needs 9542 MiB of batches; at most 1024 MiB",
        ),
        (
            &["pool", "--tasks", "100001"],
            "pool: --size is at most 1024 and --tasks at most 100000",
        ),
        (
            &["lesson", "all", "--pause", "5001"],
            "lesson: --pause is at most 5000 ms",
        ),
        (
            &["--timeout", "0", "get", "k"],
            "invalid value '0' for --timeout: expected a number of seconds, more than 0, like 5 or 0.5, not '0'",
        ),
        (
            &["bench", "--retry-for", "-1"],
            "invalid value '-1' for --retry-for: expected a number of seconds, more than 0, like 5 or 0.5, not '-1'",
        ),
    ] {
        let out = run_with(bare().arg("--url").arg(&nowhere).args(args), b"", STEP);
        assert_eq!(out.code(), Some(2), "{args:?}: {out:?}");
        assert_eq!(
            out.stderr,
            format!("error: {what}\nRun 'redis-ops --help' for usage.\n"),
            "{args:?}"
        );
    }
}
