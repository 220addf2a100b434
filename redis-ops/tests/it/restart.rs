//! Surviving the server going away: `bench`, `subscribe` and `pool` against a PRIVATE
//! redis-server (its own port and temp dir) that the test kills and starts again. The shared
//! Redis is never touched.

use std::time::{Duration, Instant};

use crate::support::*;

fn number_after(text: &str, label: &str) -> u64 {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("no '{label}' in:\n{text}"));
    text[at + label.len()..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Runs `redis-ops <line>` on `r`, restarts `r` (0.4 s down) once it has processed `commands`
/// commands, and answers stdout and stderr of the run, which must succeed within `within`.
fn across_a_restart(
    r: &mut PrivateRedis,
    line: &str,
    commands: u64,
    within: Duration,
) -> (String, String) {
    let child = Proc::spawn(&mut on(r, &args(line)));
    r.wait_commands(commands, STEP);
    r.restart(Duration::from_millis(400));
    let out = child.finish(within);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.success(), "{stderr}\n{stdout}");
    (stdout, stderr)
}

#[test]
fn bench_counts_what_failed_and_goes_on_after_a_restart() {
    let mut r = PrivateRedis::start();
    let (c, n) = (10u64, 300_000u64);
    let (stdout, stderr) = across_a_restart(
        &mut r,
        "bench -c 10 -n 300000 -P 4 -t set",
        5_000,
        Duration::from_mins(1),
    );
    // Every request is accounted for: answered or counted as failed.
    let completed: u64 = stdout
        .lines()
        .find(|l| l.ends_with("seconds") && l.contains(" requests completed in "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no 'requests completed' line:\n{stdout}"));
    assert_eq!(completed, n, "not every request completed:\n{stdout}");
    let errors = number_after(&stdout, "errors: ");
    let reconnects = number_after(&stdout, "reconnects: ");
    // What was in flight when the server died: at most one batch of -P 4 per connection.
    assert!(
        (1..=c * 4).contains(&errors),
        "errors {errors} out of range:\n{stdout}"
    );
    assert!(reconnects >= c, "every connection came back:\n{stdout}");
    assert!(
        stdout.contains(&format!("errors={errors}")),
        "the -q line reports them:\n{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "SET: {errors} request(s) failed, {reconnects} reconnect(s)"
        )),
        "{stderr}"
    );
    // The run's keys are gone from the restarted server.
    let size: i64 = redis::cmd("DBSIZE").query(&mut r.conn()).unwrap();
    assert_eq!(size, 0);
}

#[test]
fn bench_gives_up_when_the_server_stays_away() {
    let mut r = PrivateRedis::start();
    let mut cmd = on(&r, &args("bench -c 4 -n 10000000 -t get -q --retry-for 1"));
    let child = Proc::spawn(&mut cmd);
    r.wait_commands(2_000, STEP);
    r.kill();
    let out = child.finish(Duration::from_secs(30));
    let stderr = text(&out.stderr);
    assert_eq!(out.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("gave up reconnecting after 1.0 s") && stderr.contains("not sent"),
        "{stderr}"
    );
    assert!(stderr.contains("GET: "), "the partial figures: {stderr}");
}

#[test]
fn subscribe_resubscribes_after_a_restart() {
    let mut r = PrivateRedis::start();
    let mut p = subscribed(
        &mut on(&r, &args("subscribe news --count 2 --timeout 30")),
        "news",
    );
    // The server counts the subscriber as a receiver, and the message arrives.
    let published = |r: &PrivateRedis, p: &mut Proc, message: &str| {
        let n: i64 = redis::cmd("PUBLISH")
            .arg("news")
            .arg(message)
            .query(&mut r.conn())
            .unwrap();
        assert_eq!(n, 1);
        let line = format!("news: {message}");
        p.wait_for_line(|l| l == line, STEP);
    };
    published(&r, &mut p, "before");

    r.restart(Duration::from_millis(300));
    let seen = p.wait_for_err_line(|l| l.starts_with("resubscribed to news after "), STEP);
    assert!(
        seen.iter().any(|l| l.starts_with("connection lost (")),
        "{seen:?}"
    );
    // The new server counts the resubscribed client as a receiver.
    published(&r, &mut p, "after");
    let out = p.finish(Duration::from_secs(10));
    assert!(
        out.success(),
        "redis-ops subscribe did not end after --count messages: {out:?}"
    );
}

#[test]
fn pool_counts_failed_incrs_across_a_restart() {
    let mut r = PrivateRedis::start();
    let (stdout, _) = across_a_restart(
        &mut r,
        "pool --size 4 --tasks 16 --ops 100000 --baseline-ops 20",
        3_000,
        Duration::from_secs(90),
    );
    assert!(
        stdout.contains("(not checked: the server restarted during the run and lost it)"),
        "{stdout}"
    );
    let failed = number_after(
        &stdout,
        "failed INCRs (server unreachable, retried with backoff): pool ",
    );
    assert!(failed >= 1, "{stdout}");
    let size: i64 = redis::cmd("DBSIZE").query(&mut r.conn()).unwrap();
    assert_eq!(size, 0, "the counters were deleted");
}

/// How a subscriber's server turns into one that refuses it, while it listens.
#[derive(Clone, Copy)]
enum Refuse {
    /// The server runs this command, then cuts the subscriber's connection.
    With(&'static [&'static str]),
    /// The server dies, and a peer that is not Redis (an SSH banner) takes its port.
    NotRedis,
}

impl Refuse {
    /// `conn` was opened before any password was set.
    fn apply(self, r: &mut PrivateRedis, conn: &mut redis::Connection) {
        match self {
            Refuse::With(command) => {
                assert_eq!(run_then_cut(conn, command, "pubsub"), 1);
            }
            Refuse::NotRedis => {
                r.kill();
                let banner = std::net::TcpListener::bind(("127.0.0.1", r.port()))
                    .expect("the dead server's port");
                std::thread::spawn(move || {
                    for s in banner.incoming() {
                        let _ = s.and_then(|mut s| {
                            std::io::Write::write_all(&mut s, b"SSH-2.0-OpenSSH_9.6\r\n")
                        });
                    }
                });
            }
        }
    }
}

/// Runs `command` on `conn`, then cuts the connections of `kind` (`pubsub`; `normal`: all but
/// `conn`); answers how many were cut.
fn run_then_cut(conn: &mut redis::Connection, command: &[&str], kind: &str) -> i64 {
    redis::cmd(command[0])
        .arg(&command[1..])
        .exec(conn)
        .unwrap();
    redis::cmd("CLIENT")
        .arg(&["KILL", "TYPE", kind, "SKIPME", "yes"])
        .query(conn)
        .unwrap()
}

const WRONG_PASSWORD: &str =
    "error: cannot connect to redis://:***@127.0.0.1:{port}/0: password authentication failed";
const NO_PERMISSION: &str =
    "error: SUBSCRIBE news: NOPERM this user has no permissions to run the 'subscribe' command";
const NOT_REDIS: &str = "error: cannot connect to redis://127.0.0.1:{port}/0: incompatible type - Parse error at 1 Unexpected `83`";

/// Issue 13: a refusal while reconnecting (a wrong password, a peer that is not Redis, a
/// refused SUBSCRIBE) is not a lost connection: one line naming it, exit 1, at once, however
/// long `--retry-for` is. Each case: the password the subscriber's URL carries (set on the
/// server before it subscribes), what the server does, the error line (`{port}` standing for
/// the server's port).
#[test]
fn subscribe_stops_at_once_when_refused_after_a_loss() {
    let password = Refuse::With(&["CONFIG", "SET", "requirepass", "second"]);
    let acl = Refuse::With(&["ACL", "SETUSER", "default", "-subscribe"]);
    let cases = [
        (Some("first"), password, WRONG_PASSWORD),
        (None, acl, NO_PERMISSION),
        (None, Refuse::NotRedis, NOT_REDIS),
    ];
    for (password, refuse, line) in cases {
        let mut r = PrivateRedis::start();
        let port = r.port().to_string();
        let mut conn = r.conn();
        let url = match password {
            Some(pw) => {
                redis::cmd("CONFIG")
                    .arg(&["SET", "requirepass", pw])
                    .exec(&mut conn)
                    .unwrap();
                format!("redis://:{pw}@127.0.0.1:{port}/0")
            }
            None => r.url(),
        };
        let p = subscribed(
            &mut at(&url, &args("subscribe news --retry-for 30")),
            "news",
        );
        let refused = Instant::now();
        refuse.apply(&mut r, &mut conn);
        let run = p.finish(Duration::from_secs(40));
        let after = refused.elapsed();
        assert_eq!(run.code(), Some(1), "{line}: {run:?}");
        let line = line.replace("{port}", &port);
        assert_eq!(
            run.stderr_lines(),
            [
                "subscribed to news",
                "connection lost (the server closed the connection); reconnecting",
                &line,
            ],
        );
        assert!(
            after < Duration::from_secs(3),
            "{line}: ended {after:?} after the refusal (--retry-for 30): {run:?}"
        );
    }
}

/// Issue 13, the same for `bench`'s raw client: the server's password changes mid-run and the
/// connections are cut; the reconnect is refused (AUTH) and the run ends at once, exit 1, the
/// refusal as its last line (after the clean-up's own warning, bounded by `--timeout`).
#[test]
fn bench_stops_at_once_when_its_password_changes() {
    let r = PrivateRedis::start();
    let mut conn = r.conn();
    redis::cmd("CONFIG")
        .arg(&["SET", "requirepass", "first"])
        .exec(&mut conn)
        .unwrap();
    let url = format!("redis://:first@127.0.0.1:{}/0", r.port());
    let line = "--timeout 2 bench -c 4 -n 100000000 -t set -q --retry-for 30";
    let p = Proc::spawn(&mut at(&url, &args(line)));
    // The run is under way (PrivateRedis::wait_commands has no password).
    let since = Instant::now();
    while {
        let info: String = redis::cmd("INFO").arg("stats").query(&mut conn).unwrap();
        !info.lines().any(|l| {
            l.strip_prefix("total_commands_processed:")
                .and_then(|n| n.trim().parse::<u64>().ok())
                .is_some_and(|n| n >= 2000)
        })
    } {
        assert!(since.elapsed() < STEP, "bench sent nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    let refused = Instant::now();
    let password = ["CONFIG", "SET", "requirepass", "second"];
    assert!(run_then_cut(&mut conn, &password, "normal") >= 1);
    let run = p.finish(Duration::from_secs(40));
    let after = refused.elapsed();
    assert_eq!(run.code(), Some(1), "{run:?}");
    assert_eq!(
        run.stderr_lines().last().copied(),
        Some(&*format!(
            "error: cannot connect to redis://:***@127.0.0.1:{}/0: WRONGPASS invalid username-password pair or user is disabled.",
            r.port()
        )),
        "{run:?}"
    );
    assert!(
        after < Duration::from_secs(5),
        "ended {after:?} after the refusal (--retry-for 30): {run:?}"
    );
}
