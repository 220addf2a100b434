//! Issue 13: hostile input, hostile peers, signals. Every test asserts the exit code, the one
//! error line, and the time taken (and the memory where that is the point). Fake AMQP peers
//! are written here: they complete as much of the handshake as the test needs, then stall or
//! lie.

use std::time::Duration;

use test_support::{Proc, STEP, Signal, require_rabbit};

use crate::support::{Cleanup, bench_queue, bin_at, cmd, connect, ended, run, with_maxrss};

fn ok(r: &test_support::Run) {
    assert_eq!(r.code(), Some(0), "{r:?}");
}

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
                let mut c = bin_at(target, from_env);
                if how == "RUST_LOG=trace" {
                    c.env("RUST_LOG", "trace");
                } else {
                    c.arg(how);
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
            let mut c = bin_at(url, from_env);
            c.arg("-vv");
            c.args(["send", "--queue", "never-declared"]);
            let r = run(c);
            assert_ne!(r.code(), Some(0), "{url}: {r:?}");
            assert!(!r.stderr.contains(secret), "{url} ({secret}): {}", r.stderr);
            assert!(r.took < Duration::from_secs(6), "{url}: {:?}", r.took);
        }
    }
}

/// Counts and sizes that would exhaust the machine are usage errors, before anything is
/// allocated or connected.
#[test]
fn counts_and_sizes_are_bounded() {
    for (args, line) in [
        (
            &["bench", "--size", "1000000000000"][..],
            "error: --size must be at most 134217728, not 1000000000000",
        ),
        (
            &["bench", "--producers", "1000000"],
            "error: --producers must be at most 1000, not 1000000",
        ),
        (
            &["rpc-client", "--concurrency", "1000000000"],
            "error: --concurrency must be at most 100000, not 1000000000",
        ),
    ] {
        let r = run(crate::support::at(
            &format!("amqp://guest:guest@{}", test_support::refused_addr()),
            args,
        ));
        assert_eq!(r.code(), Some(2), "{r:?}");
        assert_eq!(r.stderr_lines()[0], line);
        assert!(r.took < Duration::from_secs(2), "{:?}", r.took);
    }
}

/// SIGINT and SIGTERM end a bench: its queue deleted, the figures measured so far printed,
/// exit 130 with one line saying how far it went.
#[test]
fn an_interrupted_bench_cleans_up_and_reports() {
    let _clean = Cleanup::new();
    for signal in [Signal::Int, Signal::Term] {
        let mut p = Proc::spawn(&mut cmd(&[
            "-v",
            "bench",
            "--messages",
            "3000000",
            "--size",
            "16",
        ]));
        let queue = bench_queue(&mut p);
        std::thread::sleep(Duration::from_millis(1500));
        p.signal(signal);
        let r = p.finish(STEP);
        assert_eq!(r.code(), Some(130), "{r:?}");
        let errors: Vec<&str> = r
            .stderr_lines()
            .into_iter()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{r:?}");
        assert!(
            errors[0].starts_with("error: interrupted: bench: ")
                && errors[0].ends_with(" received; queue deleted"),
            "{r:?}"
        );
        assert!(r.stdout_text().contains("\npublish: "), "{r:?}");
        assert!(r.took < Duration::from_secs(12), "{:?}", r.took);
        // The queue is gone.
        let mut conn = connect();
        let ch = conn.open_channel(None).unwrap();
        assert!(
            ch.queue_declare_passive(queue.as_str()).is_err(),
            "{queue} left behind"
        );
        let _ = conn.close();
    }
}

/// rpc-client on SIGINT: one line saying how many answers came, exit 130; a consumer without
/// --count stopped by SIGTERM exits 0.
#[test]
fn an_interrupted_rpc_client_and_a_terminated_receiver() {
    let mut clean = Cleanup::new();
    let q = clean.queue("rpc-nobody");
    // A queue nobody serves: the request waits.
    ok(&run(cmd(&["send", "--queue", &q, "warm-up"])));
    let mut p = Proc::spawn(&mut cmd(&[
        "rpc-client",
        "--queue",
        &q,
        "--timeout",
        "60",
        "5",
    ]));
    p.expect_line(" [x] Requesting fib(5)");
    p.interrupt();
    let answered = "error: interrupted: rpc-client: 0 of 1 answers received\n";
    ended(p, 130, answered, Duration::from_secs(5));

    let mut p = Proc::spawn(&mut cmd(&["receive", "--queue", &q]));
    p.expect_line(" [*] Waiting for messages. To exit press CTRL+C");
    p.terminate();
    ended(p, 0, "", STEP);
}

/// Names over AMQP's 255 bytes (queue, exchange, routing key, binding key) are usage errors,
/// found before connecting: one line naming the option and the length, the help line, exit 2,
/// at once (the broker closed the connection with FRAME_ERROR and a dump of the whole frame;
/// before that it was a reconnect loop with megabytes of warnings).
#[test]
fn names_over_255_bytes_are_usage_errors() {
    let long = "q".repeat(300);
    let fits = "q".repeat(255);
    let unreachable = test_support::refused_addr().to_string();
    let url = format!("amqp://guest:guest@{unreachable}/%2f");
    let too_long = |what: &str, command: &str| {
        format!(
            "error: {what} is 300 bytes: AMQP names are at most 255\n\
             Run 'rabbit-ops {command} --help' for usage.\n"
        )
    };
    for (args, what) in [
        (vec!["receive", "--queue", long.as_str()], "--queue"),
        (vec!["send", "--queue", long.as_str()], "--queue"),
        (vec!["worker", "--queue", long.as_str()], "--queue"),
        (vec!["rpc-client", "--queue", long.as_str(), "5"], "--queue"),
        (
            vec!["publisher-confirms", "--queue", long.as_str()],
            "--queue",
        ),
        (vec!["emit-log", "--exchange", long.as_str()], "--exchange"),
        (
            vec!["emit-log-direct", long.as_str(), "hi"],
            "the routing key",
        ),
        (vec!["emit-log-topic", long.as_str()], "the routing key"),
        (
            vec!["receive-logs-topic", "kern.*", long.as_str()],
            "a binding key",
        ),
        (
            vec!["receive-logs-direct", "--exchange", long.as_str(), "info"],
            "--exchange",
        ),
    ] {
        let r = run(crate::support::at(&url, &args));
        assert_eq!(r.code(), Some(2), "{r:?}");
        assert_eq!(r.stderr, too_long(what, args[0]), "{args:?}");
        assert!(r.took < Duration::from_secs(2), "{:?}", r.took);
    }
    // 255 bytes fit: the command goes on to connect (and finds the port refused).
    let r = run(crate::support::at(&url, &["send", "--queue", &fits]));
    assert_eq!(r.code(), Some(1), "{r:?}");
}

/// A 200 MB line on stdin: refused after 128 MiB, one line, exit 1, bounded memory.
#[test]
fn a_200_mb_line_is_refused() {
    let mut clean = Cleanup::new();
    let q = clean.queue("long-line");
    let script = format!(
        "head -c 200000000 /dev/zero | tr '\\0' a | /usr/bin/time -f maxrss_kb=%M '{}' --url '{}' \
         new-task --stdin --queue '{q}'",
        env!("CARGO_BIN_EXE_rabbit-ops"),
        test_support::amqp_url()
    );
    let mut c = test_support::command("sh");
    c.args(["-c", &script]);
    let r = run(c);
    assert_eq!(r.code(), Some(1), "{r:?}");
    let (lines, kb) = with_maxrss(&r);
    assert_eq!(
        lines[0],
        "error: line 1 of stdin is over 134217728 bytes (RabbitMQ's largest message is 128 MiB \
         by default)",
        "{r:?}"
    );
    assert!(kb < 400 * 1024, "{kb} KiB");
    assert!(r.took < Duration::from_secs(12), "{:?}", r.took);
    assert_eq!(r.stdout_text(), "", "nothing sent");
}
