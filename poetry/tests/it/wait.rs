//! poetry-client --wait and --json (issue 15): a server that comes up later is waited for, one
//! that never does is reported in one line within the deadline, each reason a download fails is
//! its own line, and a signal ends the waiting.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use poetry::server::Config;
use test_support::{Proc, STEP, command, refused_addr, silent_listener};

use super::support::{
    CLIENT, args, assert_fields, empty_server, poem, poetry_server, resetting_server,
    run_bin_async, start_on,
};

/// A TCP socket bound to a port of its own on 127.0.0.1 that does not listen yet: connecting
/// is refused until [`listen`] (no other test can take the port meanwhile).
fn bound_socket() -> (OwnedFd, SocketAddr) {
    use rustix::net::{AddressFamily, SocketType, bind, getsockname, socket};
    let fd = socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
    bind(
        &fd,
        &SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)),
    )
    .unwrap();
    let addr = SocketAddr::try_from(getsockname(&fd).unwrap()).unwrap();
    (fd, addr)
}

/// The socket of [`bound_socket`], listening now, for tokio.
fn listen(fd: OwnedFd) -> tokio::net::TcpListener {
    rustix::net::listen(&fd, 128).unwrap();
    let listener = std::net::TcpListener::from(fd);
    listener.set_nonblocking(true).unwrap();
    tokio::net::TcpListener::from_std(listener).unwrap()
}

#[tokio::test]
async fn a_server_that_comes_up_two_seconds_later_is_waited_for() {
    let poem = poem("science.txt");
    let (fd, addr) = bound_socket();
    let client = tokio::task::spawn_blocking(move || {
        Proc::spawn(command(CLIENT).args(args(&[&"--wait", &10, &addr]))).finish(STEP)
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let server = start_on(listen(fd), poetry::server::run, Config::new(poem.clone()));
    let out = client.await.unwrap();
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert_eq!(out.stdout, poem, "the poem, as without --wait");
    assert!(
        out.stderr
            .starts_with(&format!("Task 1: got 653 bytes of poetry from {addr} in ")),
        "{out:?}"
    );
    assert!(out.took < Duration::from_secs(8), "{out:?}");
    assert_eq!(server.stop().await.poems, 1);
}

/// The error line of a target that never came up: `after 10.0 s` (10.1 on a loaded machine).
fn not_ready_line(addr: SocketAddr, secs: u64, why: &str) -> [String; 2] {
    [0, 1].map(|tenth| format!("error: {addr} not ready after {secs}.{tenth} s: {why}"))
}

#[tokio::test]
async fn a_server_that_never_comes_up_fails_within_the_deadline_plus_one_second() {
    let addr = refused_addr();
    let start = Instant::now();
    let out = run_bin_async(CLIENT, args(&[&"--wait", &10, &addr])).await;
    let took = start.elapsed();
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert!(took >= Duration::from_secs(10), "{took:?}");
    assert!(took < Duration::from_secs(11), "{took:?}");
    assert!(out.stdout.is_empty());
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 3, "{out:?}");
    assert_eq!(
        lines[0],
        format!("Task 1: failed to get poetry from {addr}: connection refused")
    );
    assert!(lines[1].starts_with("Got 0 poems in 10."), "{out:?}");
    assert!(
        not_ready_line(addr, 10, "connection refused").contains(&lines[2].to_owned()),
        "{out:?}"
    );
}

#[tokio::test]
async fn each_reason_is_its_own_line_and_only_a_never_begun_poem_is_waited_for() {
    let ecstasy = poem("ecstasy.txt");
    let good = poetry_server(Config::new(ecstasy.clone())).await;
    let refused = refused_addr();
    let (_keep, silent) = silent_listener();
    let reset = resetting_server(ecstasy.clone(), 1000).await;
    let empty = empty_server().await;
    let start = Instant::now();
    let out = run_bin_async(
        CLIENT,
        args(&[
            &good.addr,
            &refused,
            &silent,
            &reset,
            &empty,
            &"--wait",
            &2,
            &"--timeout",
            &"0.5",
        ]),
    )
    .await;
    let took = start.elapsed();
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert_eq!(out.stdout, ecstasy, "the poem that arrived, alone");
    // Waiting is bounded by --wait plus one try's --timeout.
    assert!(took < Duration::from_secs(4), "{took:?}");
    let errors: Vec<&str> = out
        .stderr_lines()
        .into_iter()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 4, "{out:?}");
    assert!(
        not_ready_line(refused, 2, "connection refused").contains(&errors[0].to_owned()),
        "{out:?}"
    );
    // The last try is bounded by what is left of --wait (common::probe): it ends with the
    // client's own timeout, or, when less than --timeout was left, with the probe's bound.
    let silence = "timed out: nothing received for 500ms after 0 bytes";
    assert!(
        errors[1].starts_with(&format!("error: {silent} not ready after 2."))
            && (errors[1].ends_with(&format!(" s: {silence}"))
                || errors[1].contains(" s: no answer within ")),
        "{out:?}"
    );
    // Cut short after some bytes: a failure at once, not waited for.
    assert_eq!(
        errors[2],
        format!("error: {reset}: connection reset after 1000 bytes: the poem is incomplete")
    );
    assert!(
        not_ready_line(
            empty,
            2,
            "the server closed the connection without sending a poem"
        )
        .contains(&errors[3].to_owned()),
        "{out:?}"
    );
    good.stop().await;
}

#[tokio::test]
async fn json_prints_one_object_per_address_instead_of_the_poems() {
    let good = poetry_server(Config::new(poem("ecstasy.txt"))).await;
    let refused = refused_addr();
    let out = run_bin_async(CLIENT, args(&[&good.addr, &refused, &"--json"])).await;
    assert_eq!(out.code(), Some(1), "{out:?}");
    let lines = out.lines();
    assert_eq!(lines.len(), 2, "{out:?}");
    assert_fields(
        &lines[0],
        &[
            ("target", format!("\"{}\"", good.addr)),
            ("ok", "true".into()),
            ("server", "\"poetry server, 3003 bytes\"".into()),
            ("attempts", "1".into()),
            ("error", "null".into()),
        ],
        &out,
    );
    assert!(lines[0].contains("\"round_trip_ms\":"), "{out:?}");
    assert_fields(
        &lines[1],
        &[
            ("target", format!("\"{refused}\"")),
            ("ok", "false".into()),
            ("server", "null".into()),
            ("round_trip_ms", "null".into()),
            ("error", format!("\"{refused}: connection refused\"")),
        ],
        &out,
    );
    assert!(
        out.stderr
            .ends_with(&format!("error: {refused}: connection refused\n")),
        "{out:?}"
    );
    good.stop().await;
}

#[test]
fn a_signal_ends_the_waiting_with_exit_130() {
    let addr = refused_addr();
    let mut client = Proc::spawn(command(CLIENT).args(args(&[&"--wait", &60, &addr, &"-vv"])));
    // The handlers are armed before the first try, whose retry is logged.
    client.wait_for_err_line(|l| l.contains("attempt 1"), STEP);
    client.interrupt();
    let out = client.finish(STEP);
    assert_eq!(out.code(), Some(130), "{out:?}");
    let last = out
        .stderr_lines()
        .last()
        .copied()
        .unwrap_or_default()
        .to_owned();
    assert!(
        last.starts_with(&format!("error: {addr} not ready when interrupted after "))
            && last.ends_with(" s: connection refused"),
        "{out:?}"
    );
    assert!(out.took < Duration::from_secs(30), "{out:?}");
}
