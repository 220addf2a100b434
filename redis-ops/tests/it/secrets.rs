//! Issue 13, secrets: a Redis URL's password appears nowhere on stderr, whatever the URL's
//! shape (parsable or not), at -vvv and with RUST_LOG=trace (the redis crate's own log
//! included); an error about a refused value does not echo it (see bounds.rs).

use std::time::Duration;

use crate::support::*;

const SECRET: &str = "s3cr3tpw";

fn shapes(port: u16) -> Vec<String> {
    let h = format!("127.0.0.1:{port}");
    vec![
        format!("redis://:{SECRET}/x@{h}/0"),
        format!("redis://:{SECRET} x@{h}/0"),
        format!("redis://:{SECRET}?x@{h}/0"),
        format!("redis://:{SECRET}#x@{h}/0"),
        format!(":{SECRET}@{h}"),
        format!("redis://{h}/0?password={SECRET}"),
        format!("redis+unix:///tmp/no-such-redis.sock?db=0&pass={SECRET}"),
        format!("redis://user:{SECRET}@{h}/0"),
        // A quote or a backtick ends a URL in running text: the URL's own redaction goes on.
        format!("redis://:{SECRET}'x@{h}/0"),
        format!("redis://:{SECRET}\"x@{h}/0"),
        format!("redis://:{SECRET}`x@{h}/0"),
    ]
}

fn assert_hidden(run: &Run, url: &str) {
    assert!(!run.success(), "{url}: {run:?}");
    assert!(
        !run.stderr.contains(SECRET) && !run.stdout_text().contains(SECRET),
        "{url}: the password leaked: {run:?}"
    );
    let errors: Vec<&str> = run
        .stderr_lines()
        .into_iter()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{url}: {run:?}");
}

#[test]
fn no_url_shape_leaks_its_password_at_vvv() {
    let port = closed_port();
    for url in shapes(port) {
        for args in [
            &["-vvv", "get", "k"][..],
            &["-vvv", "ping"],
            &["-vvv", "bench", "-n", "10"],
        ] {
            let mut c = at(&url, &["--timeout", "1"]);
            c.args(args);
            let run = run_with(&mut c, b"", Duration::from_secs(20));
            assert_hidden(&run, &url);
            if run.code() == Some(1) && args[1] == "get" {
                // The URL parsed: the debug log did show it (redacted), so the check is real.
                assert!(run.stderr.contains("connecting to "), "{url}: {run:?}");
            }
        }
    }
}

#[test]
fn no_url_shape_leaks_its_password_with_rust_log_trace() {
    let port = closed_port();
    for url in shapes(port) {
        let mut c = at(&url, &["--timeout", "1", "get", "k"]);
        c.env("RUST_LOG", "trace");
        let run = run_with(&mut c, b"", Duration::from_secs(20));
        assert_hidden(&run, &url);
    }
}

/// A server that wants a password, given a wrong one and a right one, through every kind of
/// connection (set, pool, lesson, bench's raw AUTH, ping's link, subscribe), at -vvv and
/// RUST_LOG=trace: the AUTH command and its password are in no log line.
#[test]
fn auth_never_shows_in_logs() {
    let r = PrivateRedis::start();
    let mut conn = r.conn();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg(SECRET)
        .query(&mut conn)
        .unwrap();
    let port = r.port();
    for password in [SECRET, "wrong-s3cr3tpw"] {
        let url = format!("redis://:{password}@127.0.0.1:{port}/0");
        for args in [
            &["-vvv", "set", "k", "v"][..],
            &["-vvv", "pool", "--ops", "10", "--tasks", "2", "--size", "1"],
            &["-vvv", "lesson", "strings"],
            &["-vvv", "bench", "-q", "-n", "100", "-t", "set"],
            &["-vvv", "ping"],
            &["-vvv", "subscribe", "ch", "--timeout", "0.3"],
        ] {
            for trace in [false, true] {
                let mut c = at(&url, &["--timeout", "2"]);
                c.args(args);
                if trace {
                    c.env("RUST_LOG", "trace");
                }
                let run = run_with(&mut c, b"", Duration::from_mins(1));
                assert!(
                    !run.stderr.contains(SECRET) && !run.stderr.contains("AUTH"),
                    "{args:?} with {url}: {run:?}"
                );
            }
        }
    }
}

/// A peer that echoes what it is sent gets AUTH with the password: `ping` and `bench` say in
/// one line what it is, the password as `***`.
#[test]
fn an_echo_of_auth_does_not_show_the_password() {
    let url = fake_peer(Peer::Echoes).replacen("redis://", &format!("redis://:{SECRET}@"), 1);
    let shown = url.replace(SECRET, "***");
    let ping = run_with(
        &mut at(&url, &["--timeout", "1", "ping"]),
        b"",
        Duration::from_secs(20),
    );
    assert_eq!(ping.code(), Some(1), "{ping:?}");
    assert_eq!(
        ping.stderr,
        format!(
            "error: {shown}: not Redis: the answer to AUTH was \"*2\\r\\n$4\\r\\nAUTH\\r\\n$8\\r\\n***\\r\\n\" (it echoes what it is sent)\n"
        )
    );
    let bench = run_with(
        &mut at(&url, &args("--timeout 1 bench -q -n 10 -t set")),
        b"",
        Duration::from_secs(20),
    );
    assert_one_line(&bench, 1, &format!("error: cannot connect to {shown}: "));
    assert!(!bench.stderr.contains(SECRET), "{bench:?}");
}

/// Issue 22.1: a server with AUTH renamed away answers `ERR unknown command 'AUTH', with args
/// beginning with: '<password>'`: every command, ping's line and JSON object, and the logs at
/// -vvv show the password as `***` (registered by value when the URL is parsed).
#[test]
fn a_server_echoing_the_password_in_its_error_shows_it_as_stars_for_every_command() {
    let r = PrivateRedis::start_with(&["--rename-command", "AUTH", "\"\""]);
    let url = r
        .url()
        .replacen("redis://", &format!("redis://:{SECRET}@"), 1);
    let shown = url.replace(SECRET, "***");
    for line in on_the_crate_and(&["bench -q -n 10 -t set", "ping", "ping --json", "-vvv get k"]) {
        let run = run_with(
            &mut at(&url, &args(&format!("--timeout 2 {line}"))),
            b"",
            Duration::from_secs(20),
        );
        assert_eq!(run.code(), Some(1), "{line}: {run:?}");
        assert!(
            !run.stderr.contains(SECRET) && !run.stdout_text().contains(SECRET),
            "{line}: the password leaked: {run:?}"
        );
        let errors: Vec<&str> = run
            .stderr_lines()
            .into_iter()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "{line}: {run:?}");
        assert!(errors[0].contains(&shown), "{line}: {run:?}");
    }
    // ping names the server's words, the password in them as ***.
    let ping = run_with(
        &mut at(&url, &["--timeout", "2", "ping"]),
        b"",
        Duration::from_secs(20),
    );
    assert_eq!(
        ping.stderr,
        format!(
            "error: {shown}: AUTH: ERR unknown command 'AUTH', with args beginning with: '***'\n"
        )
    );
}
