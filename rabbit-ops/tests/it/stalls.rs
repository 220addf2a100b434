//! Issue 13, peers that stall or lie: a fake AMQP broker (`fake_broker.rs`) completes the
//! handshake and then never answers channel.open, or a declare, or announces a 4 GiB frame_max
//! and sends a frame that size; a proxy in front of the shared broker freezes (as a broker stopped with
//! SIGSTOP does: the kernel still takes the bytes, nothing answers). Every command ends within
//! what its options say, with one error line. Issue 22: the same fake broker behind TLS (the
//! test PKI's certificate), announcing 4 GiB frames there too.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use test_support::{Proc, STEP, TestPki, command};

use crate::fake_broker::{Lie, fake_broker, fake_broker_over, tls_acceptor, url};
use crate::support::{Cleanup, at, cmd, ended, run, with_maxrss};

#[test]
fn a_broker_that_never_answers_channel_open_or_a_declare() {
    for (lie, cases) in [
        (
            Lie::ChannelOpen,
            vec![
                (vec!["send"], "opening a channel"),
                (vec!["receive"], "opening a channel"),
                (vec!["new-task"], "opening a channel"),
                (vec!["rpc-client"], "opening a channel"),
            ],
        ),
        (
            Lie::Declare,
            vec![
                (vec!["send"], "declaring queue 'hello'"),
                (vec!["receive"], "setting up the consumer"),
                (vec!["new-task"], "setting up the channel"),
                (vec!["rpc-client"], "setting up the reply queue"),
            ],
        ),
    ] {
        let (addr, _) = fake_broker(lie);
        for (args, doing) in cases {
            let mut all = vec!["--connect-timeout", "2"];
            all.extend(&args);
            let r = run(at(&url(addr), &all));
            assert_eq!(r.code(), Some(1), "{lie:?} {args:?}: {r:?}");
            assert_eq!(
                r.stderr,
                format!("error: the broker did not answer {doing} within 2.0 s\n"),
                "{lie:?} {args:?}"
            );
            // The handshake, then 2 s for the request, then at most a second to close.
            assert!(
                r.took < Duration::from_millis(4500),
                "{lie:?} {args:?}: {:?}",
                r.took
            );
        }
    }
}

#[test]
fn a_4_gib_frame_max_and_frame_cost_nothing() {
    let (addr, asked) = fake_broker(Lie::HugeFrame);
    let mut c = command("/usr/bin/time");
    c.args(["-f", "maxrss_kb=%M", env!("CARGO_BIN_EXE_rabbit-ops")])
        .env_remove("AMQP_URL")
        .args(["--url", &url(addr), "--connect-timeout", "2", "send"]);
    let r = run(c);
    assert_eq!(r.code(), Some(1), "{r:?}");
    let (lines, kb) = with_maxrss(&r);
    assert_eq!(lines.len(), 1, "one error line: {r:?}");
    // amiquip reports the refused frame as a lost connection.
    assert_eq!(
        lines[0],
        "error: opening a channel: the connection to the broker was lost"
    );
    assert!(kb < 64 * 1024, "{kb} KiB used");
    assert!(r.took < Duration::from_secs(4), "{:?}", r.took);
    assert_eq!(asked.load(Ordering::Relaxed), 131_072, "our own frame_max");
}

/// Issue 22: the frame check holds behind TLS. A server of our own completes the TLS handshake
/// (`--cacert` of the test PKI), then announces a 4 GiB frame: as its first frame, or after a
/// valid start, tune (frame_max 4 GiB) and open-ok. Over `amqps://` as over `amqp://`: one
/// error line, exit 1, within `--connect-timeout`, and the memory of a small program (amiquip
/// believed the header and zeroed 4 GiB).
#[test]
fn a_4_gib_frame_behind_tls_costs_nothing() {
    let pki = TestPki::new();
    let ca = pki.ca();
    for (lie, frame) in [
        (Lie::HugeFirstFrame, "first frame"),
        (Lie::HugeFrame, "frame after open-ok"),
    ] {
        for tls in [false, true] {
            let (addr, asked) = fake_broker_over(lie, tls.then(|| tls_acceptor(&pki)));
            let target = if tls {
                format!("amqps://guest:guest@{addr}/%2f")
            } else {
                url(addr)
            };
            let mut c = command("/usr/bin/time");
            c.args(["-f", "maxrss_kb=%M", env!("CARGO_BIN_EXE_rabbit-ops")])
                .env_remove("AMQP_URL")
                .args(["--url", &target, "--connect-timeout", "3"]);
            if tls {
                c.arg("--cacert").arg(&ca);
            }
            c.arg("send");
            let r = run(c);
            assert_eq!(r.code(), Some(1), "{frame}, tls {tls}: {r:?}");
            let (lines, kb) = with_maxrss(&r);
            let expected = match lie {
                Lie::HugeFirstFrame => format!(
                    "error: cannot connect to {}: the peer does not speak AMQP 0-9-1: is this a \
                     RabbitMQ port?",
                    common::redact::redact_url(&target)
                ),
                _ => "error: opening a channel: the connection to the broker was lost".to_owned(),
            };
            assert_eq!(lines, [expected.as_str()], "{frame}, tls {tls}: {r:?}");
            assert!(kb < 64 * 1024, "{frame}, tls {tls}: {kb} KiB used");
            assert!(
                r.took < Duration::from_secs(3),
                "{frame}, tls {tls}: {:?}",
                r.took
            );
            if lie == Lie::HugeFrame {
                assert_eq!(asked.load(Ordering::Relaxed), 131_072, "our own frame_max");
            }
            println!(
                "4 GiB {frame}, {}: exit 1 in {:.2} s, peak RSS {kb} KiB",
                if tls { "amqps" } else { "amqp" },
                r.took.as_secs_f64()
            );
        }
    }
}

/// A proxy to the shared broker that can freeze: from then on nothing passes either way, and
/// the connections stay open (a broker stopped with SIGSTOP). Also used by `rate.rs`.
pub(crate) struct Freezer {
    pub(crate) addr: SocketAddr,
    frozen: Arc<AtomicBool>,
}

impl Freezer {
    pub(crate) fn start() -> Self {
        let target = rabbit_ops::url::AmqpUrl::parse(&test_support::require_rabbit()).unwrap();
        let target = format!("{}:{}", target.host, target.port);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let frozen = Arc::new(AtomicBool::new(false));
        let f = Arc::clone(&frozen);
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(upstream) = TcpStream::connect(&target) else {
                    return;
                };
                // Forwarded at once, as a direct connection would be (no Nagle delay).
                let _ = client.set_nodelay(true);
                let _ = upstream.set_nodelay(true);
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), upstream.try_clone().unwrap()),
                    (upstream, client),
                ] {
                    let f = Arc::clone(&f);
                    thread::spawn(move || {
                        let mut buf = [0u8; 16 * 1024];
                        loop {
                            while f.load(Ordering::Relaxed) {
                                thread::sleep(Duration::from_millis(20));
                            }
                            match from.read(&mut buf) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => {
                                    while f.load(Ordering::Relaxed) {
                                        thread::sleep(Duration::from_millis(20));
                                    }
                                    if to.write_all(&buf[..n]).is_err() {
                                        return;
                                    }
                                }
                            }
                        }
                    });
                }
            }
        });
        Self { addr, frozen }
    }

    pub(crate) fn freeze(&self) {
        self.frozen.store(true, Ordering::Relaxed);
    }

    pub(crate) fn thaw(&self) {
        self.frozen.store(false, Ordering::Relaxed);
    }
}

/// A consumer without `--timeout` in front of a broker that freezes notices it after two
/// missed heartbeats, says so, keeps trying, and takes messages again once the broker answers:
/// with `?heartbeat=1` within a few seconds, with our default heartbeat (10 s, not RabbitMQ's
/// 60 s: that took two minutes) within 25 s.
#[test]
fn a_frozen_broker_is_noticed_by_heartbeats() {
    let mut clean = Cleanup::new();
    let mut consumers = Vec::new();
    for (heartbeat, within) in [("?heartbeat=1", 5), ("", 25)] {
        let q = clean.queue("heartbeat");
        let proxy = Freezer::start();
        let target = format!("{}{heartbeat}", url(proxy.addr));
        let args = ["--connect-timeout", "1", "receive", "--queue", &q];
        let mut p = Proc::spawn(&mut at(&target, &args));
        p.expect_line(" [*] Waiting for messages. To exit press CTRL+C");
        proxy.freeze();
        consumers.push((p, proxy, q, Instant::now(), Duration::from_secs(within)));
    }
    for (p, proxy, q, frozen_at, within) in &mut consumers {
        p.wait_for_err_line(|l| l.contains("connection lost"), *within);
        let noticed = frozen_at.elapsed();
        assert!(noticed < *within, "noticed after {noticed:?}");
        proxy.thaw();
        p.wait_for_err_line(|l| l.contains("reconnected to"), Duration::from_secs(15));
        assert_eq!(run(cmd(&["send", "--queue", q, "x"])).code(), Some(0));
        p.expect_line(" [x] Received x");
    }
    for (mut p, ..) in consumers {
        p.terminate();
        let r = p.finish(STEP);
        assert_eq!(r.code(), Some(0), "{r:?}");
    }
}

#[test]
fn a_frozen_broker_ends_timeouts_on_time() {
    let mut clean = Cleanup::new();
    let q = clean.queue("frozen");
    // The queue exists (so the request is routed) and nobody serves it.
    assert_eq!(run(cmd(&["send", "--queue", &q, "x"])).code(), Some(0));

    let proxy = Freezer::start();
    let mut p = Proc::spawn(&mut at(
        &url(proxy.addr),
        &["receive", "--queue", &q, "--count", "1"],
    ));
    p.expect_line(" [*] Waiting for messages. To exit press CTRL+C");
    p.expect_line(" [x] Received x");
    let r = p.finish(STEP);
    assert_eq!(r.code(), Some(0), "{r:?}");

    let no_answer = format!(
        "error: no answer to fib(30) within 6.0 s on queue '{q}': is rpc-server running?\n"
    );
    for (args, first, stderr, within_ms) in [
        (
            ["receive", "--queue", &q, "--timeout", "5"],
            " [*] Waiting for messages. To exit press CTRL+C",
            "error: no message within 5.0 s (received 0 before)\n",
            7500,
        ),
        (
            ["rpc-client", "--queue", &q, "--timeout", "6"],
            " [x] Requesting fib(30)",
            no_answer.as_str(),
            8500,
        ),
    ] {
        let frozen = Freezer::start();
        let mut p = Proc::spawn(&mut at(&url(frozen.addr), &args));
        p.expect_line(first);
        frozen.freeze();
        ended(p, 1, stderr, Duration::from_millis(within_ms));
    }
}
