//! `amqps://` (issue 16): private RabbitMQ nodes with an SSL listener and the certificates of a
//! test PKI. One node per test (a boot takes ~15 s), several checks against each: what passes
//! (--cacert, a client certificate, --insecure), and each refusal as one line, exit 1, within
//! --connect-timeout.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::tls::INSECURE_WARNING;
use test_support::{
    ClientAuth, ErlangHome, Proc, RabbitNode, Run, STEP, ServerCert, TestPki, require_rabbit,
    silent_listener,
};

use crate::support::{bin, run};

/// The `--connect-timeout` of the refusals, and how long one may take at most.
const CONNECT_TIMEOUT: &str = "3";
const WITHIN: Duration = Duration::from_secs(4);

/// `rabbit-ops --url URL --connect-timeout 3 [tls...] args...`
fn over(url: &str, tls: &[&Path], flags: &[&str], args: &[&str]) -> std::process::Command {
    let mut c = bin();
    c.args(["--url", url, "--connect-timeout", CONNECT_TIMEOUT]);
    for (flag, file) in ["--cacert", "--cert", "--key"].iter().zip(tls) {
        c.arg(flag).arg(file);
    }
    c.args(flags).args(args);
    c
}

/// Runs `c`; asserts exit 1 within [`WITHIN`] with exactly `error: cannot connect to <url>:
/// <reason>` on stderr and nothing on stdout.
fn refused(c: std::process::Command, url: &str, reason: &str) {
    refused_one_of(c, url, &[reason]);
}

/// `send` over `url` with `tls` is [`refused`] with `reason`.
fn send_refused(url: &str, tls: &[&Path], reason: &str) {
    refused(over(url, tls, &[], &["send"]), url, reason);
}

/// As [`refused`], with any one of `reasons`: with TLS 1.3 a server refuses a client
/// certificate after the client's side of the handshake, and its alert may be lost to a reset
/// when the client's first AMQP bytes reach the socket it closed (a race of the protocol).
fn refused_one_of(c: std::process::Command, url: &str, reasons: &[&str]) {
    let started = Instant::now();
    let r = run(c);
    let took = started.elapsed();
    assert_eq!(r.code(), Some(1), "{r:?}");
    let lines: Vec<String> = reasons
        .iter()
        .map(|reason| {
            format!(
                "error: cannot connect to {}: {reason}\n",
                common::redact::redact_url(url)
            )
        })
        .collect();
    assert!(lines.contains(&r.stderr), "{r:?}\nnot one of {lines:#?}");
    assert_eq!(r.stdout_text(), "");
    assert!(took < WITHIN, "took {took:?}: {r:?}");
}

/// What a reset right after the TLS handshake says (see [`refused_one_of`]).
const CLOSED_AFTER_TLS: &str = "the server closed the connection right after the TLS handshake: ";

fn ok(r: &Run) {
    assert_eq!(r.code(), Some(0), "{r:?}");
}

const WAITING: &str = " [*] Waiting for messages. To exit press CTRL+C";

/// Sends a message over `url` and receives it, and pings the node, with `tls` and `flags`;
/// answers stderr of the three.
fn send_receive_ping(url: &str, tls: &[&Path], flags: &[&str], message: &str) -> String {
    let sent = run(over(url, tls, flags, &["send", message]));
    ok(&sent);
    assert_eq!(sent.stdout_text(), format!(" [x] Sent '{message}'\n"));
    let got = run(over(url, tls, flags, &["receive", "--count", "1"]));
    ok(&got);
    assert_eq!(got.lines(), [WAITING, &format!(" [x] Received {message}")]);
    let pinged = run(over(url, tls, flags, &["ping"]));
    ok(&pinged);
    let line = pinged.stdout_text();
    assert!(
        line.starts_with(&format!(
            "ok {}: RabbitMQ ",
            common::redact::redact_url(url)
        )),
        "{line}"
    );
    [sent.stderr, got.stderr, pinged.stderr].concat()
}

#[test]
fn a_node_that_requires_client_certificates() {
    let pki = TestPki::new();
    let home = ErlangHome::new();
    let mut node = RabbitNode::start_tls(&home, &pki, ClientAuth::Required);
    node.wait_ready(RabbitNode::BOOT);
    let url = node.amqps_url();
    let (ca, cert, key) = (pki.ca(), pki.client_cert(), pki.client_key());

    // --cacert and a client certificate: every command works.
    let stderr = send_receive_ping(&url, &[&ca, &cert, &key], &[], "over TLS");
    assert_eq!(stderr, "");
    // The same with a SEC1 key, and with an RSA certificate and its PKCS#1 key: OpenSSL reads
    // every PEM key kind.
    let (sec1, rsa, pkcs1) = other_key_kinds(&pki);
    let stderr = send_receive_ping(&url, &[&ca, &cert, &sec1], &[], "with a SEC1 key");
    assert_eq!(stderr, "");
    let stderr = send_receive_ping(&url, &[&ca, &rsa, &pkcs1], &[], "with a PKCS#1 key");
    assert_eq!(stderr, "");

    // No client certificate.
    refused_one_of(
        over(&url, &[&ca], &[], &["send"]),
        &url,
        &[
            "the server requires a client certificate (give one with --cert and --key)",
            &format!(
                "{CLOSED_AFTER_TLS}does it require a client certificate? (give one with --cert \
                 and --key)"
            ),
        ],
    );
    // A client certificate of another CA.
    let (other, other_key) = (pki.other_client_cert(), pki.other_client_key());
    refused_one_of(
        over(&url, &[&ca, &other, &other_key], &[], &["send"]),
        &url,
        &[
            "the server refused the client certificate (unknown CA)",
            &format!("{CLOSED_AFTER_TLS}did it refuse the client certificate?"),
        ],
    );
    // The server's certificate is not of the CA we trust (another one, or the system's).
    let untrusted = "the server's certificate is not signed by a trusted CA (give its CA with \
                     --cacert)";
    send_refused(&url, &[&pki.other_ca(), &cert, &key], untrusted);
    let mut system = over(&url, &[], &[], &["ping"]);
    system.env("SSL_CERT_FILE", pki.other_ca());
    let r = run(system);
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert!(r.stderr.contains(untrusted), "{r:?}");

    // The TLS port behind a plain amqp:// URL.
    let plain = format!("amqp://guest:guest@127.0.0.1:{}/%2f", node.ssl_port());
    send_refused(&plain, &[], "the server speaks TLS: use an amqps:// URL");
}

#[test]
fn a_certificate_for_another_name_and_insecure() {
    let pki = TestPki::new();
    let home = ErlangHome::new();
    let mut node = RabbitNode::start_tls_with(&home, &pki, ServerCert::WrongName, ClientAuth::No);
    node.wait_ready(RabbitNode::BOOT);
    let url = node.amqps_url();
    let ca = pki.ca();

    send_refused(
        &url,
        &[&ca],
        "the server's certificate is not for 127.0.0.1",
    );
    // --insecure: it works, and each run says once that nothing was checked.
    let stderr = send_receive_ping(&url, &[], &["--insecure"], "unchecked");
    assert_eq!(stderr, format!("{INSECURE_WARNING}\n").repeat(3));

    // The other kinds of connection: RPC (a server and a client), publisher confirms, bench.
    let mut server = Proc::spawn(&mut over(&url, &[], &["--insecure"], &["rpc-server"]));
    server.expect_line(" [x] Awaiting RPC requests");
    let asked = run(over(&url, &[], &["--insecure"], &["rpc-client", "30"]));
    ok(&asked);
    assert_eq!(
        asked.lines(),
        [" [x] Requesting fib(30)", " [.] Got 832040"]
    );
    server.interrupt();
    ok(&server.finish(STEP));
    let [confirmed, bench] = [
        ["publisher-confirms", "--messages", "200"],
        ["bench", "--messages", "500"],
    ]
    .map(|args| run(over(&url, &[], &["--insecure"], &args)));
    ok(&confirmed);
    ok(&bench);
    for r in [&asked, &confirmed, &bench] {
        assert_eq!(r.stderr, format!("{INSECURE_WARNING}\n"), "{r:?}");
    }
}

#[test]
fn a_plain_or_silent_server_behind_an_amqps_url() {
    let shared = require_rabbit();
    let url = shared.replacen("amqp://", "amqps://", 1);
    assert!(url.starts_with("amqps://"), "{shared}");
    send_refused(
        &url,
        &[],
        "the server does not speak TLS (a plain-text server behind a TLS URL?)",
    );
    // A peer that takes the connection and never answers the ClientHello: the watchdog ends
    // the TLS handshake at --connect-timeout.
    let (_listener, addr) = silent_listener();
    let url = format!("amqps://guest:guest@{addr}/%2f");
    send_refused(
        &url,
        &[],
        "no AMQP handshake within 3.0 s: is this a RabbitMQ port?",
    );
}

#[test]
fn tls_flags_are_checked_before_any_connection() {
    let pki = TestPki::new();
    let usage = |args: &[&str], what: &str| {
        let mut c = bin();
        c.args(args);
        let r = run(c);
        assert_eq!(r.code(), Some(2), "{r:?}");
        assert_eq!(
            r.stderr,
            format!("error: {what}\nRun 'rabbit-ops --help' for usage.\n"),
            "{args:?}"
        );
    };
    let ca = pki.ca();
    let ca = ca.to_str().unwrap();
    let tls_url = "amqps://127.0.0.1:1/%2f";
    usage(
        &["--url", "amqp://127.0.0.1:1/%2f", "--cacert", ca, "send"],
        "--cacert needs an amqps:// URL",
    );
    usage(&["--insecure", "send"], "--insecure needs an amqps:// URL");
    let cert = pki.client_cert();
    usage(
        &["--url", tls_url, "--cert", cert.to_str().unwrap(), "send"],
        "--cert needs --key (the private key of the client certificate)",
    );
    usage(
        &["--url", tls_url, "--cacert", "/nonexistent/ca.pem", "ping"],
        "cannot read --cacert '/nonexistent/ca.pem': not found",
    );
}

/// `client.key` as a SEC1 `EC PRIVATE KEY`, and an RSA client certificate of the test CA with
/// its PKCS#1 `RSA PRIVATE KEY` (made with the openssl command).
fn other_key_kinds(pki: &TestPki) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = |args: &[&Path]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .output()
            .expect("this test needs the openssl command (apt-get install openssl)");
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    let p = |name: &str| pki.path(name);
    let arg = Path::new;
    let (sec1, rsa, pkcs1) = (p("client-sec1.key"), p("rsa.pem"), p("rsa1.key"));
    openssl(&[arg("ec"), arg("-in"), &pki.client_key(), arg("-out"), &sec1]);
    std::fs::write(
        p("rsa.ext"),
        "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
    )
    .unwrap();
    openssl(&[
        arg("req"),
        arg("-new"),
        arg("-newkey"),
        arg("rsa:2048"),
        arg("-nodes"),
        arg("-subj"),
        arg("/CN=lessons-rsa-client"),
        arg("-keyout"),
        &p("rsa8.key"),
        arg("-out"),
        &p("rsa.csr"),
    ]);
    openssl(&[
        arg("x509"),
        arg("-req"),
        arg("-in"),
        &p("rsa.csr"),
        arg("-CA"),
        &pki.ca(),
        arg("-CAkey"),
        &p("ca.key"),
        arg("-set_serial"),
        arg("7"),
        arg("-days"),
        arg("2"),
        arg("-extfile"),
        &p("rsa.ext"),
        arg("-out"),
        &rsa,
    ]);
    openssl(&[
        arg("pkey"),
        arg("-in"),
        &p("rsa8.key"),
        arg("-traditional"),
        arg("-out"),
        &pkcs1,
    ]);
    for (file, label) in [(&sec1, "EC PRIVATE KEY"), (&pkcs1, "RSA PRIVATE KEY")] {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(
            text.contains(&format!("-----BEGIN {label}-----")),
            "{}",
            file.display()
        );
    }
    (sec1, rsa, pkcs1)
}
