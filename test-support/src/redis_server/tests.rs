//! Private redis-servers: ports of their own, restarts, TLS.

use std::net::{SocketAddr, TcpStream};

use super::*;
use crate::panics::panic_text;
use crate::tls::WRONG_NAME;

fn get(conn: &mut redis::Connection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(conn).unwrap()
}

fn set(conn: &mut redis::Connection, key: &str, value: &str) {
    redis::cmd("SET")
        .arg(key)
        .arg(value)
        .query::<()>(conn)
        .unwrap();
}

#[test]
fn a_private_redis_starts_restarts_and_stops() {
    let mut r = PrivateRedis::start();
    let port = r.port();
    assert!((20_000..30_000).contains(&port));
    assert_ne!(port, 6379);
    let mut c = r.conn();
    set(&mut c, "k", "v");
    assert_eq!(get(&mut c, "k").as_deref(), Some("v"));

    r.restart(Duration::from_millis(50));
    assert_eq!(r.port(), port);
    assert_eq!(get(&mut r.conn(), "k"), None, "nothing persisted");

    r.kill();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    assert!(r.pid().is_none());
}

#[test]
fn a_taken_port_makes_it_try_another() {
    // Two servers whose candidate ports collide: the second cannot bind, and moves on.
    let a = PrivateRedis::start();
    let mut b = PrivateRedis::start_with(&[]);
    b.kill();
    b.port = a.port();
    assert!(!b.boot(), "the port of `a` is taken");
    assert!(b.log().contains(PORT_TAKEN));
    assert!(b.child.is_none());
    drop(a);
    assert!(b.boot(), "the port is free again");
}

#[test]
fn extra_arguments_reach_the_server_and_pause_stalls_it() {
    let r = PrivateRedis::start_with(&["--maxmemory", "7mb"]);
    assert!(r.info("memory").contains("maxmemory:7340032"));
    let mut c = r.conn();
    c.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    r.pause();
    let stalled = redis::cmd("PING").query::<String>(&mut c);
    assert!(stalled.is_err(), "a paused server does not answer");
    r.resume();
    assert_eq!(
        redis::cmd("PING").query::<String>(&mut r.conn()).unwrap(),
        "PONG"
    );
    r.wait_commands(2, STEP);
}

/// `redis-cli --tls` against it: its stdout and stderr.
fn redis_cli_tls(r: &PrivateRedis, pki: &TestPki, client_cert: bool, cmd: &[&str]) -> String {
    let mut c = Command::new("redis-cli");
    c.arg("--tls").arg("--cacert").arg(pki.ca());
    if client_cert {
        c.arg("--cert").arg(pki.client_cert());
        c.arg("--key").arg(pki.client_key());
    }
    let out = c
        .args(["-h", "127.0.0.1", "-p", &r.port().to_string()])
        .args(cmd)
        .stdin(Stdio::null())
        .output()
        .expect("these tests need redis-cli (apt-get install redis-tools)");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_tls_redis_speaks_tls_only_and_wants_a_client_certificate() {
    let pki = TestPki::new();
    let mut r = PrivateRedis::start_tls(&pki, ClientAuth::Required);
    assert!(r.is_tls());
    assert_eq!(r.url(), format!("rediss://127.0.0.1:{}", r.port()));
    assert_eq!(redis_cli_tls(&r, &pki, true, &["ping"]).trim(), "PONG");
    let refused = redis_cli_tls(&r, &pki, false, &["ping"]);
    assert!(!refused.contains("PONG"), "{refused}");

    let mut c = r.conn();
    set(&mut c, "k", "tls");
    assert_eq!(get(&mut c, "k").as_deref(), Some("tls"));
    let config = |name: &str| -> Vec<String> {
        redis::cmd("CONFIG")
            .arg("GET")
            .arg(name)
            .query(&mut r.conn())
            .unwrap()
    };
    assert_eq!(config("port"), ["port", "0"], "no plain port");
    assert_eq!(
        config("tls-port"),
        ["tls-port".to_owned(), r.port().to_string()]
    );
    assert_eq!(config("tls-auth-clients"), ["tls-auth-clients", "yes"]);

    // Plain text on its port gets no Redis answer.
    let plain = redis::Client::open(format!("redis://127.0.0.1:{}/0", r.port()))
        .unwrap()
        .get_connection_with_timeout(Duration::from_secs(2))
        .and_then(|mut c| {
            c.set_read_timeout(Some(Duration::from_secs(2)))?;
            redis::cmd("PING").query::<String>(&mut c)
        });
    assert!(plain.is_err(), "{plain:?}");

    r.restart(Duration::from_millis(50));
    assert_eq!(get(&mut r.conn(), "k"), None, "restarted, with TLS, empty");
    assert_eq!(redis_cli_tls(&r, &pki, true, &["ping"]).trim(), "PONG");
}

#[test]
fn a_tls_redis_with_the_wrong_name_and_optional_client_certificates() {
    let pki = TestPki::new();
    let r = PrivateRedis::start_tls_with(&pki, ServerCert::WrongName, ClientAuth::Optional, &[]);
    // redis-cli checks the CA, not the name; a client certificate is optional.
    assert_eq!(redis_cli_tls(&r, &pki, false, &["ping"]).trim(), "PONG");
    let addr = SocketAddr::from(([127, 0, 0, 1], r.port()));
    let err = crate::tls::connect(&pki, addr, "localhost", false, STEP).unwrap_err();
    assert!(err.to_string().contains("not valid for name"), "{err}");
    crate::tls::connect(&pki, addr, WRONG_NAME, false, STEP).expect("its own name verifies");
    assert_eq!(
        redis::cmd("PING").query::<String>(&mut r.conn()).unwrap(),
        "PONG"
    );
}

#[test]
fn wait_ready_after_kill_says_it_is_not_running() {
    let mut r = PrivateRedis::start();
    r.kill();
    let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        r.wait_ready(Duration::from_secs(1));
    }))
    .expect_err("not running");
    let text = panic_text(&*e);
    assert!(text.contains("is not running"), "{text}");
}
