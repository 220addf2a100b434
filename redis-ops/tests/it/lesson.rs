//! `redis-ops lesson`: every group passes against the real Redis, and no key of the run
//! survives it (after success, a reply that disagreed, or Ctrl-C).

use std::time::Duration;

use crate::support::*;

/// The `{lesson:<hex>}:` prefix the run announced on its first line (the braces are a Redis
/// Cluster hash tag).
fn prefix_in(line: &str) -> String {
    let start = line
        .find("{lesson:")
        .expect("no {lesson: prefix on the first line");
    let rest = &line[start..];
    let end = rest.find("}:").expect("prefix not closed") + 2;
    let prefix = rest[..end].to_owned();
    let id = &prefix[8..prefix.len() - 2];
    assert!(
        id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "odd prefix {prefix}"
    );
    prefix
}

/// No key under `prefix` in the URL's database or the one MOVE uses.
fn assert_no_keys(prefix: &str) {
    for db in [0, 1] {
        let left = scan_keys(&mut redis_db(db), &format!("{prefix}*"));
        assert!(left.is_empty(), "db {db} still holds {left:?}");
    }
}

fn passes(group: &str) {
    let _ = redis();
    let out = run(&["lesson", group]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "lesson {group} failed: {}\n{stdout}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("lesson {group}: ")) && stdout.contains("all as expected"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("\n! "),
        "a disagreement was printed:\n{stdout}"
    );
    assert!(out.stderr.is_empty(), "stderr: {}", text(&out.stderr));
    let prefix = prefix_in(stdout.lines().next().unwrap());
    assert_no_keys(&prefix);
}

#[test]
fn strings() {
    passes("strings");
}
#[test]
fn hashes() {
    passes("hashes");
}
#[test]
fn lists() {
    passes("lists");
}
#[test]
fn sets() {
    passes("sets");
}
#[test]
fn zsets() {
    passes("zsets");
}
#[test]
fn keys() {
    passes("keys");
}
#[test]
fn pipeline() {
    passes("pipeline");
}
#[test]
fn pubsub() {
    passes("pubsub");
}
#[test]
fn all() {
    passes("all");
}

#[test]
fn prints_commands_and_replies_like_redis_cli() {
    let _ = redis();
    let out = run(&["lesson", "hashes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let prefix = prefix_in(stdout.lines().next().unwrap());
    for expected in [
        format!("> HSET {prefix}h k1 v1\n(integer) 1\n"),
        format!("> HGET {prefix}h nope\n(nil)\n"),
        format!("> HMGET {prefix}h k1 k2 nope\n1) \"v1b\"\n2) \"v2\"\n3) (nil)\n"),
        format!(
            "> GET {prefix}h\n(error) WRONGTYPE Operation against a key holding the wrong kind of value\n"
        ),
    ] {
        assert!(
            stdout.contains(&expected),
            "missing:\n{expected}\nin:\n{stdout}"
        );
    }
}

#[test]
fn unknown_lesson_is_one_line_and_exit_2() {
    let out = run(&["lesson", "geo"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: unknown lesson 'geo': choose strings, hashes, lists, sets, zsets, keys, pipeline, pubsub or all\nRun 'redis-ops --help' for usage.\n"
    );
    assert!(out.stdout.is_empty());
}

/// Another client changes a lesson key between two steps: the next check disagrees, the run
/// says so and exits 1, and the keys (the intruder's too) are gone.
/// A running `lesson ... --pause MS` and the key prefix its first line announced.
fn lesson_in_progress(args: &[&str]) -> (Proc, String) {
    let mut p = Proc::spawn(cmd().arg("lesson").args(args));
    let prefix = prefix_in(&p.first_line(STEP));
    (p, prefix)
}

#[test]
fn a_disagreement_is_reported_and_cleaned_up() {
    let mut conn = redis();
    let (mut p, prefix) = lesson_in_progress(&["strings", "--pause", "400"]);
    let greeting = format!("{prefix}greeting");
    p.wait_for_line(|l| l == format!("> SET {greeting} hello"), STEP);
    p.wait_for_line(|l| l == "OK", STEP);
    // The lesson now pauses 400 ms before `GET greeting`, which must answer "hello".
    let _: () = redis::cmd("SET")
        .arg(&greeting)
        .arg("sabotage")
        .query(&mut conn)
        .unwrap();
    let rest = p.wait_for_line(|l| l.starts_with("! expected"), STEP);
    assert_eq!(rest.last().unwrap(), "! expected \"hello\"", "{rest:?}");
    let out = p.finish(Duration::from_secs(30));
    assert_eq!(out.code(), Some(1));
    assert_eq!(
        out.stderr,
        format!("error: lesson strings: > GET {greeting}: expected \"hello\", got \"sabotage\"\n")
    );
    assert_no_keys(&prefix);
}

/// Ctrl-C in the middle: exit 130 (common::exit::INTERRUPTED), one line saying so, and no key
/// left behind.
#[test]
fn ctrl_c_cleans_up() {
    let mut conn = redis();
    let (mut p, prefix) = lesson_in_progress(&["all", "--pause", "50"]);
    p.wait_for_line(|l| l.starts_with("> GETRANGE"), STEP);
    let before = scan_keys(&mut conn, &format!("{prefix}*"));
    assert!(
        before.len() >= 3,
        "the lesson should hold keys by now: {before:?}"
    );
    p.interrupt();
    let out = p.finish(Duration::from_secs(30));
    assert_eq!(out.code(), Some(130));
    let stderr = out.stderr;
    assert!(
        stderr.starts_with("error: interrupted (SIGINT); deleted the run's ")
            && stderr.ends_with(&format!(" key(s) under {prefix}\n"))
            && stderr.lines().count() == 1,
        "{stderr}"
    );
    assert_no_keys(&prefix);
}

/// Over RESP3 (`?protocol=resp3`) Redis answers with maps, sets and doubles where RESP2 has
/// arrays and text: every group still passes (the replies are checked in their RESP2 shape)
/// and leaves no key behind.
#[test]
fn every_group_passes_over_resp3() {
    let _ = redis();
    let base = url();
    let sep = if base.contains('?') { '&' } else { '?' };
    let resp3 = format!("{base}{sep}protocol=resp3");
    let out = run_with(
        bare().args(["--url", &resp3, "lesson", "all"]),
        b"",
        Duration::from_mins(1),
    );
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "lesson all over RESP3 failed: {}\n{stdout}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("lesson all: ") && stdout.contains("all as expected"),
        "{stdout}"
    );
    assert!(!stdout.contains("\n! "), "a disagreement:\n{stdout}");
    assert!(out.stderr.is_empty(), "stderr: {}", text(&out.stderr));
    assert_no_keys(&prefix_in(stdout.lines().next().unwrap()));
}
