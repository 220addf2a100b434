//! Issue 13, lessons interrupted: a `lesson` stopped by a Redis that pauses (CLIENT PAUSE) or by
//! `kill -9` leaves its keys; they heal: the keys of the groups that show no TTL carry a one-hour
//! expiry backstop, and the next lesson run removes the keys of runs whose process is gone.

use std::time::{Duration, Instant};

use crate::support::*;

fn lesson_keys(conn: &mut redis::Connection) -> Vec<String> {
    let mut keys = scan_keys(conn, "{lesson:*");
    keys.extend(scan_keys(conn, "lesson-run:*"));
    keys
}

fn ttl(conn: &mut redis::Connection, key: &str) -> i64 {
    redis::cmd("TTL").arg(key).query(conn).unwrap()
}

/// The next run heals: one line says what it removed, and at its end nothing of either run is
/// left (not even a marker).
fn next_run_heals(r: &PrivateRedis, left: usize) {
    let m = measured(&mut on(r, &["lesson", "sets"]), b"", Duration::from_mins(1));
    let run = &m.run;
    assert!(run.success(), "{run:?}");
    // The first line names the run's prefix, as always; the second says what was healed.
    let second = run.lines().into_iter().nth(1).unwrap_or_default();
    assert_eq!(
        second,
        format!("# removed {left} key(s) left by 1 interrupted run(s)"),
        "{run:?}"
    );
    assert!(run.took < Duration::from_secs(10), "{run:?}");
    assert!(lesson_keys(&mut r.conn()).is_empty(), "{run:?}");
}

#[test]
fn a_lesson_frozen_by_client_pause_leaves_keys_that_the_next_run_removes() {
    let r = PrivateRedis::start();
    let mut conn = r.conn();
    let mut p = Proc::spawn(&mut on(
        &r,
        &["--timeout", "1", "lesson", "hashes", "--pause", "100"],
    ));
    p.wait_for_line(|l| l.starts_with("> HGETALL"), STEP);
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(2500)
        .arg("ALL")
        .query(&mut conn)
        .unwrap();
    let paused = Instant::now();
    let run = p.finish(Duration::from_secs(30));
    assert_eq!(run.code(), Some(1), "{run:?}");
    assert_eq!(run.stderr_lines().len(), 1, "{run:?}");
    assert!(run.stderr.starts_with("error: "), "{run:?}");
    assert!(
        run.stderr
            .ends_with("}: are left (the next lesson run removes them)\n"),
        "{run:?}"
    );
    // Noticed within --timeout 1, the clean-up tried within --timeout 1.
    assert!(paused.elapsed() < Duration::from_secs(3), "{run:?}");
    std::thread::sleep(Duration::from_millis(2600).saturating_sub(paused.elapsed()));
    let left = scan_keys(&mut conn, "{lesson:*");
    assert!(!left.is_empty(), "the pause should have left keys: {run:?}");
    for key in &left {
        let t = ttl(&mut conn, key);
        assert!(
            (3000..=3600).contains(&t),
            "{key}: TTL {t}, not the backstop"
        );
    }
    next_run_heals(&r, left.len());
}

#[test]
fn a_killed_lesson_leaves_keys_that_the_next_run_removes() {
    let r = PrivateRedis::start();
    let mut conn = r.conn();
    let mut p = Proc::spawn(&mut on(&r, &["lesson", "lists", "--pause", "100"]));
    p.wait_for_line(|l| l.starts_with("> LRANGE"), STEP);
    p.kill();
    let left = scan_keys(&mut conn, "{lesson:*");
    assert!(!left.is_empty(), "the kill should have left keys");
    assert_eq!(scan_keys(&mut conn, "lesson-run:*").len(), 1, "its marker");
    next_run_heals(&r, left.len());
}

/// A run that is alive is never swept: two lessons at once on one server both pass.
#[test]
fn a_live_run_is_left_alone() {
    let r = PrivateRedis::start();
    let mut a = Proc::spawn(&mut on(&r, &["lesson", "zsets", "--pause", "30"]));
    a.wait_for_line(|l| l.starts_with("> ZADD"), STEP);
    let b = run_with(
        &mut on(&r, &["lesson", "sets"]),
        b"",
        Duration::from_mins(1),
    );
    assert!(b.success(), "{b:?}");
    assert!(!b.stdout_text().contains("# removed"), "{b:?}");
    let a = a.finish(Duration::from_mins(1));
    assert!(a.success(), "{a:?}");
    assert!(lesson_keys(&mut r.conn()).is_empty());
}
