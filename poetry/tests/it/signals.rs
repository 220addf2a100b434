//! Issue 13, signals: poetry-client on SIGINT or SIGTERM stops the downloads in progress, prints
//! the poems already whole and one line saying how many were not, and exits 130; the servers
//! stop with exit 0, even when their stderr is a closed pipe.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use poetry::server::Config;
use test_support::{Proc, STEP, Signal, addr_in, command};

use super::errors::{spawn_piped, wait_bounded};
use super::support::{
    CLIENT, PROXY, SERVER, TRANSFORM, args, assert_fields, poem, poem_path, poetry_server,
    signal_once_connected, stalling_server,
};

/// Runs poetry-client on `argv`, waits for the stderr line `ready`, sends `sig`: answers the
/// run and how long the client took to exit after the signal.
fn interrupted(argv: &[String], ready: &str, sig: Signal) -> (test_support::Run, Duration) {
    let mut client = Proc::spawn(command(CLIENT).args(argv));
    client.wait_for_err_line(|l| l.starts_with(ready), STEP);
    let sent = Instant::now();
    client.signal(sig);
    let run = client.finish(STEP);
    (run, sent.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_prints_the_poems_already_whole_and_exits_130_on_sigint_or_sigterm() {
    let science = poem("science.txt");
    let ecstasy = poem("ecstasy.txt");
    let (stalling, _connections) = stalling_server(science, 100).await;
    let good = poetry_server(Config::new(ecstasy.clone())).await;
    for (sig, name) in [(Signal::Int, "SIGINT"), (Signal::Term, "SIGTERM")] {
        // The whole poem comes after one that never ends: it is printed all the same.
        let argv = args(&[&stalling, &good.addr, &stalling]);
        let ready = "Task 2: got 3003 bytes";
        let (run, after) = tokio::task::spawn_blocking(move || interrupted(&argv, ready, sig))
            .await
            .unwrap();
        eprintln!("{name}: exit after {after:?}");
        assert_eq!(run.code(), Some(130), "{run:?}");
        assert_eq!(run.stdout, ecstasy, "{run:?}");
        let lines = run.stderr_lines();
        assert_eq!(
            lines.last().copied(),
            Some(&*format!(
                "error: interrupted ({name}) with 2 of 3 downloads unfinished"
            )),
            "{run:?}"
        );
        assert!(
            lines[lines.len() - 2].starts_with("Got 1 poems in "),
            "{run:?}"
        );
        assert!(
            lines.contains(&&*format!(
                "Task 1: failed to get poetry from {stalling}: interrupted"
            )),
            "{run:?}"
        );
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("error")).count(),
            1,
            "{run:?}"
        );
        assert!(after < Duration::from_secs(2), "{after:?}");
    }
    good.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_not_begun_when_the_signal_comes_are_counted_unfinished() {
    let (stalling, mut connections) = stalling_server(poem("science.txt"), 100).await;
    let good = poetry_server(Config::new(poem("ecstasy.txt"))).await;
    let client = Proc::spawn(command(CLIENT).args(args(&[
        &stalling,
        &good.addr,
        &good.addr,
        &"--concurrency",
        &1,
    ])));
    // The first download has begun (the signal handlers are armed before it): the two others
    // wait their turn.
    let run = signal_once_connected(client, &mut connections, Signal::Term).await;
    assert_eq!(run.code(), Some(130), "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert_eq!(
        run.stderr_lines().last().copied(),
        Some("error: interrupted (SIGTERM) with 3 of 3 downloads unfinished"),
        "{run:?}"
    );
    assert!(run.took < Duration::from_secs(3), "{run:?}");
    good.stop().await;
}

/// Each server, its stderr a pipe whose reader is gone (and -vv, so that it logs), stops on
/// SIGTERM or SIGINT with exit 0.
#[test]
fn a_server_whose_stderr_is_closed_stops_with_exit_0() {
    let file = poem_path("science.txt");
    let file = file.to_str().unwrap();
    for (bin, argv, sig) in [
        (SERVER, vec!["--port", "0", file], Signal::Term),
        (
            SERVER,
            vec!["--port", "0", "--threads", "2", file],
            Signal::Int,
        ),
        (TRANSFORM, vec![], Signal::Term),
        (PROXY, vec!["9"], Signal::Int),
    ] {
        let mut child = spawn_piped(bin, &[&argv[..], &["-vv"]].concat());
        drop(child.stderr.take());
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        // A connection, so that there is something to log.
        let listening = addr_in(first.trim().rsplit(' ').next().unwrap());
        let _ = std::net::TcpStream::connect(listening);
        std::thread::sleep(Duration::from_millis(100));
        let start = Instant::now();
        test_support::send_signal(child.id(), sig);
        let status = wait_bounded(&mut child);
        assert_eq!(status.code(), Some(0), "{bin} {argv:?}: {status:?}");
        assert!(start.elapsed() < Duration::from_secs(6), "{bin}");
    }
}

/// A check stopped in the middle of a try (`--wait`, `--json`) still has its object and its
/// line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_stopped_in_the_middle_of_a_try_has_its_line_and_its_json() {
    let (stalling, mut connections) = stalling_server(poem("science.txt"), 100).await;
    let client = Proc::spawn(command(CLIENT).args(args(&[&stalling, &"--wait", &30, &"--json"])));
    let run = signal_once_connected(client, &mut connections, Signal::Int).await;
    assert_eq!(run.code(), Some(130), "{run:?}");
    let lines = run.lines();
    assert_eq!(lines.len(), 1, "one object: {run:?}");
    let interrupted = format!("{stalling} not ready when interrupted after ");
    let fields = [
        ("target", format!("\"{stalling}\"")),
        ("ok", "false".into()),
        ("attempts", "0".into()),
        ("error", format!("\"{interrupted}")),
    ];
    assert_fields(&lines[0], &fields, &run);
    assert!(lines[0].contains(" s: no answer yet\""), "{run:?}");
    let last = run.stderr_lines().last().copied().unwrap_or_default();
    assert!(
        last.starts_with(&format!("error: {interrupted}")) && last.ends_with(" s: no answer yet"),
        "{run:?}"
    );
    assert_eq!(
        run.stderr_lines()
            .iter()
            .filter(|l| l.starts_with("error"))
            .count(),
        1,
        "{run:?}"
    );
    assert!(run.took < Duration::from_secs(5), "{run:?}");
}
