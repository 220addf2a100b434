//! Surviving the server going away: `bench`, `subscribe` and `pool` against a PRIVATE
//! redis-server (its own port and temp dir) that the test kills and starts again. The shared
//! Redis is never touched.

use std::time::Duration;

use crate::support::*;

/// `redis-ops --url <private>` ...
fn on(r: &PrivateRedis, args: &[&str]) -> std::process::Command {
    let mut c = bare();
    c.arg("--url").arg(r.url()).args(args);
    c
}

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

#[test]
fn bench_counts_what_failed_and_goes_on_after_a_restart() {
    let mut r = PrivateRedis::start();
    let (c, n) = (10u64, 300_000u64);
    let mut cmd = on(
        &r,
        &["bench", "-c", "10", "-n", "300000", "-P", "4", "-t", "set"],
    );
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    wait_commands(&r, 5_000);
    r.restart(Duration::from_millis(400));
    let out = wait_output(child, Duration::from_mins(1));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}\n{stdout}");
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
    let mut cmd = on(
        &r,
        &[
            "bench",
            "-c",
            "4",
            "-n",
            "10000000",
            "-t",
            "get",
            "-q",
            "--retry-for",
            "1",
        ],
    );
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    wait_commands(&r, 2_000);
    r.kill();
    let out = wait_output(child, Duration::from_secs(30));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("gave up reconnecting after 1.0 s") && stderr.contains("not sent"),
        "{stderr}"
    );
    assert!(stderr.contains("GET: "), "the partial figures: {stderr}");
}

#[test]
fn subscribe_resubscribes_after_a_restart() {
    let mut r = PrivateRedis::start();
    let (mut child, out, err) = spawn_lines(on(
        &r,
        &["subscribe", "news", "--count", "2", "--timeout", "30"],
    ));
    wait_for_line(&err, |l| l == "subscribed to news");
    let n: i64 = redis::cmd("PUBLISH")
        .arg("news")
        .arg("before")
        .query(&mut r.conn())
        .unwrap();
    assert_eq!(n, 1);
    wait_for_line(&out, |l| l == "news: before");

    r.restart(Duration::from_millis(300));
    let seen = wait_for_line(&err, |l| l.starts_with("resubscribed to news after "));
    assert!(
        seen.iter().any(|l| l.starts_with("connection lost (")),
        "{seen:?}"
    );
    // The new server counts the resubscribed client as a receiver.
    let n: i64 = redis::cmd("PUBLISH")
        .arg("news")
        .arg("after")
        .query(&mut r.conn())
        .unwrap();
    assert_eq!(n, 1);
    wait_for_line(&out, |l| l == "news: after");
    let status = wait_output_status(&mut child);
    assert!(status.success());
}

fn wait_output_status(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("redis-ops subscribe did not end after --count messages");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn pool_counts_failed_incrs_across_a_restart() {
    let mut r = PrivateRedis::start();
    let mut cmd = on(
        &r,
        &[
            "pool",
            "--size",
            "4",
            "--tasks",
            "16",
            "--ops",
            "100000",
            "--baseline-ops",
            "20",
        ],
    );
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    wait_commands(&r, 3_000);
    r.restart(Duration::from_millis(400));
    let out = wait_output(child, Duration::from_secs(90));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}\n{stdout}");
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
