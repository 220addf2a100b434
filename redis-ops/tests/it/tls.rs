//! Issue 16: `rediss://` for every command, with `--cacert`, `--cert`/`--key` and
//! `--insecure`, against private TLS redis-servers (test-support's PKI); and the TLS errors, each
//! one line, exit 1, within `--timeout`.

use std::process::Command;
use std::time::Duration;

use test_support::{ClientAuth, ServerCert, TestPki};

use crate::support::*;

const INSECURE: &str = "warning: --insecure: the server's certificate is not checked\n";

fn path(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `redis-ops --url <url> --timeout 2 <trust...> <args...>`.
fn tls(url: &str, trust: &[String], args: &[&str]) -> Command {
    let mut c = bare();
    c.arg("--url")
        .arg(url)
        .args(["--timeout", "2"])
        .args(trust)
        .args(args);
    c
}

fn ca(pki: &TestPki) -> Vec<String> {
    vec!["--cacert".into(), path(&pki.ca())]
}

/// `--cacert <the test CA> --cert <cert> --key <key>`.
fn ca_and_client(pki: &TestPki, cert: &std::path::Path, key: &std::path::Path) -> Vec<String> {
    let mut t = ca(pki);
    t.extend(["--cert".into(), path(cert), "--key".into(), path(key)]);
    t
}

fn run_ok(c: &mut Command) -> Run {
    let run = run_with(c, b"", Duration::from_mins(1));
    assert!(run.success(), "{run:?}");
    run
}

#[test]
fn every_command_works_over_tls_with_a_private_ca() {
    let pki = TestPki::new();
    let r = PrivateRedis::start_tls(&pki, ClientAuth::No);
    let url = r.url();
    let t = ca(&pki);
    assert_eq!(
        run_ok(&mut tls(&url, &t, &["set", "k", "over tls"])).stdout_text(),
        "OK\n"
    );
    assert_eq!(
        run_ok(&mut tls(&url, &t, &["get", "k"])).stdout,
        b"over tls"
    );
    assert_eq!(
        run_ok(&mut tls(&url, &t, &["incr", "n", "--by", "2"])).stdout_text(),
        "2\n"
    );
    let lesson = run_ok(&mut tls(&url, &t, &["lesson", "all"]));
    assert!(
        lesson.stdout_text().contains("all as expected"),
        "{lesson:?}"
    );
    let pool = run_ok(&mut tls(
        &url,
        &t,
        &["pool", "--ops", "500", "--baseline-ops", "50"],
    ));
    assert!(
        pool.stdout_text().contains("counter: 500 (expected 500)"),
        "{pool:?}"
    );
    let ping = run_ok(&mut tls(&url, &t, &["ping"]));
    assert!(
        ping.stdout_text().starts_with(&format!("ok {url}: Redis ")),
        "{ping:?}"
    );
    let bench = run_ok(&mut tls(
        &url,
        &t,
        &["bench", "-q", "-n", "2000", "-t", "set,get"],
    ));
    assert_eq!(bench.lines().len(), 2, "{bench:?}");
    assert!(bench.stdout_text().contains("errors=0"), "{bench:?}");

    let sub = subscribed(
        &mut tls(&url, &t, &args("subscribe news --count 1")),
        "news",
    );
    let published = run_ok(&mut tls(&url, &t, &["publish", "news", "hello"]));
    assert_eq!(published.stdout_text(), "(integer) 1\n");
    let sub = sub.finish(STEP);
    assert!(sub.success(), "{sub:?}");
    assert_eq!(sub.stdout_text(), "news: hello\n");
}

#[test]
fn a_client_certificate_is_sent_when_the_server_requires_one() {
    let pki = TestPki::new();
    let r = PrivateRedis::start_tls(&pki, ClientAuth::Required);
    let t = ca_and_client(&pki, &pki.client_cert(), &pki.client_key());
    assert_eq!(
        run_ok(&mut tls(&r.url(), &t, &["set", "k", "v"])).stdout_text(),
        "OK\n"
    );
    run_ok(&mut tls(&r.url(), &t, &["ping"]));
    run_ok(&mut tls(
        &r.url(),
        &t,
        &["bench", "-q", "-n", "500", "-t", "incr"],
    ));
    run_ok(&mut tls(
        &r.url(),
        &t,
        &["pool", "--ops", "100", "--baseline-ops", "10"],
    ));
}

#[test]
fn insecure_skips_the_check_and_says_so() {
    let pki = TestPki::new();
    let r = PrivateRedis::start_tls_with(&pki, ServerCert::WrongName, ClientAuth::No, &[]);
    let t = vec!["--insecure".to_owned()];
    let run = run_ok(&mut tls(&r.url(), &t, &["set", "k", "v"]));
    assert_eq!(run.stderr, INSECURE, "{run:?}");
    let run = run_ok(&mut tls(
        &r.url(),
        &t,
        &["bench", "-q", "-n", "200", "-t", "set"],
    ));
    assert_eq!(run.stderr, INSECURE, "{run:?}");
    let run = run_ok(&mut tls(&r.url(), &t, &["ping"]));
    assert_eq!(run.stderr, INSECURE, "{run:?}");
}

/// One line, exit 1, within --timeout 2 (and a little), for get, ping and bench.
fn assert_fails(url: &str, trust: &[String], expected: &str) {
    for args in [
        &["get", "k"][..],
        &["ping"],
        &["bench", "-q", "-n", "10", "-t", "set"],
    ] {
        let m = measured(&mut tls(url, trust, args), b"", Duration::from_secs(30));
        let run = &m.run;
        assert_eq!(run.code(), Some(1), "{args:?}: {run:?}");
        assert_eq!(run.stderr_lines().len(), 1, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains(expected),
            "{args:?}: expected '{expected}' in {run:?}"
        );
        assert!(run.took < Duration::from_secs(3), "{args:?}: {run:?}");
    }
}

#[test]
fn a_certificate_that_does_not_verify_is_one_line() {
    let pki = TestPki::new();
    let r = PrivateRedis::start_tls(&pki, ClientAuth::No);
    let other = vec!["--cacert".to_owned(), path(&pki.other_ca())];
    assert_fails(
        &r.url(),
        &other,
        "is not signed by a trusted CA (give its CA with --cacert)",
    );
    // The system's roots do not know the test CA either.
    assert_fails(
        &r.url(),
        &[],
        "is not signed by a trusted CA (give its CA with --cacert)",
    );
}

#[test]
fn a_name_that_does_not_match_is_one_line() {
    let pki = TestPki::new();
    let r = PrivateRedis::start_tls_with(&pki, ServerCert::WrongName, ClientAuth::No, &[]);
    assert_fails(&r.url(), &ca(&pki), "elsewhere.invalid");
}

/// A plain server behind `rediss://` does not hang; a TLS server behind `redis://` is one line.
#[test]
fn a_plain_server_behind_rediss_and_a_tls_one_behind_redis() {
    let pki = TestPki::new();
    let (plain, tls) = (
        PrivateRedis::start(),
        PrivateRedis::start_tls(&pki, ClientAuth::No),
    );
    for (url, starts) in [
        (format!("rediss://127.0.0.1:{}", plain.port()), "speak TLS"),
        (format!("redis://127.0.0.1:{}/0", tls.port()), "error: "),
    ] {
        assert_fails(&url, &[], starts);
    }
}

/// Issue 22.5: the wrong scheme is said plainly, for every command, in one line, within the
/// timeout: `redis://` to a TLS port (which only resets the connection) and `rediss://` to a
/// plain one (which only waits for the end of a command).
#[test]
fn the_wrong_scheme_is_said_plainly_for_every_command() {
    let pki = TestPki::new();
    let (plain, tls_only) = (
        PrivateRedis::start(),
        PrivateRedis::start_tls(&pki, ClientAuth::No),
    );
    for (url, trust, why) in [
        (
            format!("redis://127.0.0.1:{}/0", tls_only.port()),
            vec![],
            "the server speaks TLS: use a rediss:// URL",
        ),
        (
            format!("rediss://127.0.0.1:{}/0", plain.port()),
            ca(&pki),
            "the server does not speak TLS: use a redis:// URL",
        ),
    ] {
        for line in [
            "get k",
            "set k v",
            "ping",
            "subscribe ch",
            "pool --size 2 --tasks 4",
            "bench -q -n 10 -t set",
            "ping --wait 10",
        ] {
            let m = measured(&mut tls(&url, &trust, &args(line)), b"", STEP);
            let r = &m.run;
            let shown = if line.starts_with("ping") {
                format!("error: {url}: {why}\n")
            } else {
                format!("error: cannot connect to {url}: {why}\n")
            };
            assert_eq!(r.code(), Some(1), "{line}: {r:?}");
            assert_eq!(r.stderr, shown, "{line}: {r:?}");
            // --wait too: the wrong scheme is permanent, not waited out.
            assert!(r.took < Duration::from_secs(2), "{line}: {r:?}");
        }
    }
}

/// Issue 22.6: a certificate that does not verify is permanent: `ping --wait` stops at once
/// (as rabbit-ops does), the line without "not ready after".
#[test]
fn ping_wait_stops_at_once_for_a_certificate_that_does_not_verify() {
    let pki = TestPki::new();
    let r = PrivateRedis::start_tls(&pki, ClientAuth::No);
    let other = vec!["--cacert".to_owned(), path(&pki.other_ca())];
    let m = measured(
        &mut tls(&r.url(), &other, &args("ping --wait 20")),
        b"",
        Duration::from_secs(30),
    );
    let run = &m.run;
    assert_eq!(run.code(), Some(1), "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "error: {}: the server's certificate is not signed by a trusted CA (give its CA with --cacert)\n",
            r.url()
        )
    );
    assert!(run.took < Duration::from_secs(2), "{run:?}");
}

#[test]
fn a_refused_client_certificate_is_one_line() {
    let pki = TestPki::new();
    let r = PrivateRedis::start_tls(&pki, ClientAuth::Required);
    let t = ca_and_client(&pki, &pki.other_client_cert(), &pki.other_client_key());
    assert_fails(&r.url(), &t, "client certificate");
    // None at all.
    assert_fails(&r.url(), &ca(&pki), "client certificate");
}

#[test]
fn tls_flags_without_a_tls_url_are_usage_errors() {
    let run = run_with(
        bare().args(["--url", "redis://127.0.0.1:1/0", "--insecure", "get", "k"]),
        b"",
        STEP,
    );
    assert_eq!(run.code(), Some(2), "{run:?}");
    assert_eq!(
        run.stderr,
        format!("error: --insecure needs a rediss:// URL (TLS)\n{HELP}")
    );
    let run = run_with(
        bare().args([
            "--url",
            "rediss://127.0.0.1:1",
            "--cert",
            "/nonexistent.pem",
            "get",
            "k",
        ]),
        b"",
        STEP,
    );
    assert_eq!(run.code(), Some(2), "{run:?}");
    assert_eq!(
        run.stderr,
        format!("error: --cert needs --key (the private key of the client certificate)\n{HELP}")
    );
}

/// `--cluster` with a `rediss://` seed: a one-node TLS cluster holding every slot.
#[test]
fn a_cluster_over_tls() {
    let pki = TestPki::new();
    let r = PrivateRedis::start_tls_with(
        &pki,
        ServerCert::Trusted,
        ClientAuth::No,
        &["--cluster-enabled", "yes"],
    );
    let mut conn = r.conn();
    let _: () = redis::cmd("CLUSTER")
        .arg("ADDSLOTSRANGE")
        .arg(0)
        .arg(16383)
        .query(&mut conn)
        .unwrap();
    let deadline = std::time::Instant::now() + STEP;
    loop {
        let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut conn).unwrap();
        if info.contains("cluster_state:ok") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{info}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let c = |args: &[&str]| {
        let mut cmd = bare();
        cmd.args(["--cluster", &r.url(), "--timeout", "2", "--cacert"])
            .arg(pki.ca())
            .args(args);
        run_ok(&mut cmd)
    };
    assert_eq!(c(&["set", "k", "v"]).stdout_text(), "OK\n");
    assert_eq!(c(&["get", "k"]).stdout, b"v");
    assert!(
        c(&["lesson", "strings"])
            .stdout_text()
            .contains("all as expected")
    );
    assert!(
        c(&["bench", "-q", "-n", "500", "-t", "set"])
            .stdout_text()
            .contains("errors=0")
    );
    assert!(c(&["ping"]).stdout_text().starts_with("ok "));
}
