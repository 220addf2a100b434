//! Private RabbitMQ nodes: ports of their own, clustering, TLS.

use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::net::amqps_start;
use crate::net::silent_listener;
use crate::process::STEP;
use crate::tls::{ClientAuth, TestPki, WRONG_NAME};

#[test]
fn an_erlang_home_has_a_private_cookie() {
    let home = ErlangHome::new();
    let cookie = home.path().join(".erlang.cookie");
    let mode = fs::metadata(&cookie).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o400);
    assert!(
        fs::read_to_string(&cookie)
            .unwrap()
            .starts_with("LESSONSTEST")
    );
    let path = home.path().to_owned();
    let kept = home.clone();
    drop(home);
    assert!(path.exists(), "a clone keeps the folder");
    drop(kept);
    assert!(!path.exists());
}

/// A node on a taken port moves to another, stops and starts its application, a second node
/// joins it, and both stop. Three boots: about 25 s on the 2-core machine.
#[test]
fn private_nodes_boot_move_off_a_taken_port_cluster_and_stop() {
    let home = ErlangHome::new();
    let (_held, taken) = silent_listener();
    let mut a = RabbitNode::start(&home);
    // Its first ports were candidates; make it find the AMQP one taken.
    a.kill_group();
    a.port = taken.port();
    a.spawn();
    let mut b = RabbitNode::start(&home);
    a.wait_ready(RabbitNode::BOOT);
    assert_ne!(a.port(), taken.port(), "moved to another port");
    assert!(a.spawns >= 2);
    let start = amqp_start(&format!("127.0.0.1:{}", a.port()), Duration::from_secs(5))
        .expect("connection.start");
    assert!(contains(&start, b"lessons-test-"));

    a.stop_app();
    a.wait_closed(Duration::from_secs(30));
    a.start_app();

    b.wait_ready(RabbitNode::BOOT);
    b.join(&a);
    let status = a.ctl(&["cluster_status"]).stdout_text();
    assert!(status.contains(b.name()), "{status}");

    let (a_port, b_port) = (a.port(), b.port());
    let a_dir = a.dir().to_owned();
    b.stop();
    drop(a);
    for port in [a_port, b_port] {
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    }
    assert!(!a_dir.exists());
}

/// `openssl s_client` against 127.0.0.1:`port`, verifying `name` against the test CA, with
/// the client certificate when `with_cert`: what it printed.
fn s_client(pki: &TestPki, port: u16, name: &str, with_cert: bool) -> String {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .arg(if name.parse::<std::net::IpAddr>().is_ok() {
            "-verify_ip"
        } else {
            "-verify_hostname"
        })
        .args([name, "-verify_return_error", "-brief"])
        .arg("-CAfile")
        .arg(pki.ca());
    if with_cert {
        cmd.arg("-cert").arg(pki.client_cert());
        cmd.arg("-key").arg(pki.client_key());
    }
    // Stdin at its end: it closes once the handshake is done.
    let out = Proc::spawn(&mut cmd).finish_or_kill(STEP);
    format!("{}{}", out.stdout_text(), out.stderr)
}

/// A TLS node whose first SSL port is taken moves to others; its SSL listener verifies
/// against the test CA (as localhost and 127.0.0.1), wants a client certificate, and answers
/// AMQP over TLS. Two boots: about 20 s on the 2-core machine.
#[test]
fn a_tls_node_moves_off_a_taken_ssl_port_and_checks_certificates() {
    let home = ErlangHome::new();
    let pki = TestPki::new();
    let (_held, taken) = silent_listener();
    let mut n = RabbitNode::start_tls(&home, &pki, ClientAuth::Required);
    n.kill_group();
    n.tls.as_mut().unwrap().port = taken.port();
    n.spawn();
    n.wait_ready(RabbitNode::BOOT);
    assert_ne!(n.ssl_port(), taken.port(), "moved to another port");
    assert!(n.spawns >= 2);
    assert_eq!(
        n.amqps_url(),
        format!("amqps://guest:guest@127.0.0.1:{}/%2f", n.ssl_port())
    );

    for name in ["localhost", "127.0.0.1"] {
        let out = s_client(&pki, n.ssl_port(), name, true);
        assert!(out.contains("Verification: OK"), "{name}: {out}");
    }
    let out = s_client(&pki, n.ssl_port(), WRONG_NAME, true);
    assert!(!out.contains("Verification: OK"), "{out}");

    let start = amqps_start(&pki, n.ssl_port(), "localhost", true, STEP).unwrap();
    assert!(contains(&start, b"lessons-test-"));
    let refused = amqps_start(&pki, n.ssl_port(), "localhost", false, STEP).unwrap_err();
    // TLS 1.3: the server refuses the missing certificate after the client's side of the
    // handshake, so the alert can be lost to the connection's close when the client writes
    // first (seen under load): either way the connection is refused.
    let refused = refused.to_string();
    assert!(
        [
            "CertificateRequired",
            "Broken pipe",
            "reset by peer",
            "closed"
        ]
        .iter()
        .any(|w| refused.contains(w)),
        "{refused}"
    );
    // The plain port still answers.
    amqp_start(&format!("127.0.0.1:{}", n.port()), STEP).unwrap();
}
