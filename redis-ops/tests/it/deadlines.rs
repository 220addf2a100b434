//! Issue 13, deadlines: every exchange has one, and they add up to what the options say.
//! `pool` against a server answering garbage used to hang 33 s; `pool --retry-for 3 --timeout 2`
//! took 50 s to give up. Fake peers (garbage, silent) and a private redis-server that dies or
//! freezes mid-run.

use std::time::{Duration, Instant};

use crate::support::*;

/// Not a Redis server: permanent, one line, exit 1, within `--timeout` (nothing retried).
#[test]
fn pool_against_garbage_fails_at_once() {
    let url = fake_peer(Peer::Garbage);
    let m = measured(
        &mut at(&url, &args("--timeout 2 pool --retry-for 3")),
        b"",
        Duration::from_secs(30),
    );
    let r = &m.run;
    assert_one_line(r, 1, "error: ");
    assert!(r.took < Duration::from_secs(3), "{r:?}");
    assert!(m.peak_kib < 64 * 1024, "{} KiB", m.peak_kib);
}

/// A server that accepts and never answers: the connect deadline, `--timeout`, and no more.
#[test]
fn pool_against_a_silent_server_gives_up_within_the_timeout() {
    let (_listener, addr) = test_support::silent_listener();
    let url = format!("redis://{addr}/0");
    ends_as(
        &mut at(&url, &args("--timeout 2 pool --retry-for 3")),
        b"",
        (
            1,
            &format!("error: cannot connect to {url}: timed out after 2.0 s\n"),
        ),
        (Duration::from_millis(3500), 64 * 1024),
    );
}

/// `pool --timeout 2 --retry-for 3` with 64 tasks and more INCRs than it will ever do, once
/// its INCRs reach the server.
fn long_pool(r: &PrivateRedis) -> Proc {
    let p = Proc::spawn(&mut on(
        r,
        &args("--timeout 2 pool --retry-for 3 --ops 100000000 --tasks 64"),
    ));
    r.wait_commands(2000, STEP);
    p
}

/// The server dies mid-run: the run gives up `--retry-for` after the outage began (plus at
/// most one attempt, bounded by `--timeout`), however many tasks are retrying.
#[test]
fn pool_retry_for_is_a_total_bound_when_the_server_dies() {
    let mut r = PrivateRedis::start();
    let p = long_pool(&r);
    let killed = Instant::now();
    r.kill();
    gave_up_within(p, killed, Duration::from_secs(6));
}

/// `p` ends with exit 1 and one `gave up` line, less than `limit` after `since`.
fn gave_up_within(p: Proc, since: Instant, limit: Duration) {
    let run = p.finish(Duration::from_secs(30));
    let after = since.elapsed();
    assert_one_line(&run, 1, "error: gave up after 3.0 s of failures: ");
    assert!(after < limit, "gave up {after:?} after the outage: {run:?}");
}

/// The server freezes mid-run (SIGSTOP): every attempt times out after `--timeout`, and the run
/// still gives up `--retry-for` after the first one did.
#[test]
fn pool_retry_for_is_a_total_bound_when_the_server_freezes() {
    let r = PrivateRedis::start();
    let p = long_pool(&r);
    let paused = Instant::now();
    r.pause();
    // The stall is noticed within --timeout (2 s), then 3 s of retries at most, then the
    // attempt to delete the run's keys, itself bounded by --timeout (2 s): 7 s.
    gave_up_within(p, paused, Duration::from_millis(8500));
    r.resume();
}

/// Every command has the same deadline, `--timeout`, on a peer that never answers or lies.
#[test]
fn every_command_ends_within_the_timeout_on_a_silent_or_lying_peer() {
    let (_listener, addr) = test_support::silent_listener();
    let silent = format!("redis://{addr}/0");
    let mut urls = vec![silent];
    urls.extend([Peer::Garbage, Peer::Closes, Peer::Resets, Peer::Amqp].map(fake_peer));
    for url in &urls {
        for args in [
            &["get", "k"][..],
            &["set", "k", "v"],
            &["incr", "k"],
            &["publish", "ch", "m"],
            &["subscribe", "ch"],
            &["lesson", "strings"],
            &["ping"],
        ] {
            let mut c = at(url, &["--timeout", "1"]);
            c.args(args);
            let m = measured(&mut c, b"", Duration::from_secs(20));
            let r = &m.run;
            assert_eq!(r.code(), Some(1), "{r:?}");
            assert_eq!(r.stderr_lines().len(), 1, "{r:?}");
            assert!(r.stderr.starts_with("error: "), "{r:?}");
            assert!(r.took < Duration::from_millis(2500), "{r:?}");
        }
    }
}

/// `subscribe --retry-for 2` after its server died: it gives up within the 2 s (each attempt and
/// each wait cut at the deadline), one line, exit 1.
#[test]
fn subscribe_retry_for_is_a_total_bound() {
    let mut r = PrivateRedis::start();
    let p = subscribed(
        &mut on(&r, &args("--timeout 1 subscribe news --retry-for 2")),
        "news",
    );
    let killed = Instant::now();
    r.kill();
    let run = p.finish(Duration::from_secs(30));
    let after = killed.elapsed();
    assert_eq!(run.code(), Some(1), "{run:?}");
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 3, "{run:?}");
    assert!(lines[1].starts_with("connection lost"), "{run:?}");
    assert!(lines[2].starts_with("error: SUBSCRIBE news: "), "{run:?}");
    assert!(lines[2].contains("gave up reconnecting after"), "{run:?}");
    assert!(
        after < Duration::from_secs(3),
        "gave up {after:?} after the kill: {run:?}"
    );
}
