//! Issue 13, peers that never end or never answer: a server that never stops sending costs the
//! client and the proxy at most a few times --max-poem-size in memory and fails that one
//! download or fetch; a peer that accepts and says nothing is given up after --timeout, by the
//! client, its transform step, the proxy and the transform service.

use std::time::{Duration, Instant};

use poetry::client::{FetchError, get_poem};
use poetry::server::Config;
use test_support::{Proc, STEP, Signal, command, silent_listener};

use super::support::{
    Background, CLIENT, MAX_POEM, PROXY, TRANSFORM, args, endless_server, mib, peak_memory, poem,
    poetry_server, read_all, run_bin_async,
};

/// The peak memory allowed with the default --max-poem-size of 16 MiB.
const MEMORY_BOUND: u64 = 64 << 20;

/// Long enough for anything a test below waits for.
const T: Duration = Duration::from_secs(10);

/// `bin argv` started in the background (its first line read).
async fn background(bin: &'static str, argv: Vec<String>) -> Background {
    tokio::task::spawn_blocking(move || Background::start(bin, &argv))
        .await
        .unwrap()
}

/// Stops a server with SIGTERM; answers its stderr once it has exited 0.
async fn stopped(bg: Background) -> String {
    let (code, stderr) = tokio::task::spawn_blocking(move || bg.signal(Signal::Term))
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_stops_sending_fails_that_download_with_bounded_memory() {
    let endless = endless_server().await;
    let ecstasy = poem("ecstasy.txt");
    let good = poetry_server(Config::new(ecstasy.clone())).await;
    // The silent server keeps the client running (3 s) after the endless download failed, so
    // that its peak memory can be read before it exits.
    let (_keep, silent) = silent_listener();
    let argv = args(&[&endless, &good.addr, &silent, &"--timeout", &3]);
    let (run, took, peak) = tokio::task::spawn_blocking(move || {
        let start = Instant::now();
        let mut client = Proc::spawn(command(CLIENT).args(&argv));
        let too_large =
            format!("Task 1: failed to get poetry from {endless}: poem larger than 16777216 bytes");
        client.wait_for_err_line(|l| l == too_large, STEP);
        let took = start.elapsed();
        let peak = peak_memory(client.pid());
        (client.finish(STEP), took, peak)
    })
    .await
    .unwrap();
    eprintln!(
        "the endless download failed after {took:?}; client peak memory {}",
        mib(peak)
    );
    assert!(took < Duration::from_secs(3), "within --timeout: {took:?}");
    assert!(peak < MEMORY_BOUND, "peak memory {}", mib(peak));
    assert_eq!(run.code(), Some(1), "{run:?}");
    assert_eq!(run.stdout, ecstasy, "the other poem is printed");
    let lines = run.stderr_lines();
    assert!(
        lines.contains(&&*format!(
            "Task 3: failed to get poetry from {silent}: timed out: nothing received for 3s after 0 bytes"
        )),
        "{run:?}"
    );
    assert!(
        lines.last().unwrap().starts_with("Got 1 poems in "),
        "{run:?}"
    );
    good.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_in_front_of_a_server_that_never_stops_sending_stays_bounded_and_serves_on() {
    let endless = endless_server().await;
    let argv = args(&[&endless, &"--timeout", &3]);
    let bg = background(PROXY, argv).await;
    // Each client starts a fetch (a failed one is not cached), and is closed without a poem.
    for _ in 0..2 {
        let start = Instant::now();
        let got = get_poem(bg.addr(), T, MAX_POEM, |_| {}).await;
        let took = start.elapsed();
        eprintln!("a client of the proxy got {got:?} after {took:?}");
        assert!(matches!(got, Err(FetchError::Empty)), "{got:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
    let peak = peak_memory(bg.proc.pid());
    eprintln!("proxy peak memory {}", mib(peak));
    assert!(peak < MEMORY_BOUND, "peak memory {}", mib(peak));
    let stderr = stopped(bg).await;
    assert!(
        stderr.contains(&format!(
            "cannot fetch the poem from {endless}: poem larger than 16777216 bytes"
        )),
        "{stderr}"
    );
    assert!(
        stderr.ends_with(
            "poetry-proxy: served 0 poem(s) to 2 connection(s), 2 without a poem; fetched upstream 2 time(s), 2 failed\n"
        ),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_silent_server_and_a_silent_transform_service_are_given_up_after_the_timeout() {
    let ecstasy = poem("ecstasy.txt");
    let good = poetry_server(Config::new(ecstasy.clone())).await;
    let (_keep, silent) = silent_listener();
    let out = run_bin_async(
        CLIENT,
        args(&[
            &good.addr,
            &silent,
            &"--transform",
            &silent,
            &"--timeout",
            &1,
        ]),
    )
    .await;
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert_eq!(out.stdout, ecstasy, "the original poem is kept");
    let lines = out.stderr_lines();
    for line in [
        format!(
            "Task 1: cummingsify via {silent} failed: timed out after 1s; keeping the original poem"
        ),
        format!(
            "Task 2: failed to get poetry from {silent}: timed out: nothing received for 1s after 0 bytes"
        ),
    ] {
        assert!(lines.contains(&line.as_str()), "{line}: {out:?}");
    }
    // Both bounded by one --timeout each, at once.
    assert!(out.took < Duration::from_secs(3), "{out:?}");
    good.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_upstream_is_given_up_by_the_proxy_after_the_timeout() {
    let (_keep, silent) = silent_listener();
    let argv = args(&[&silent, &"--timeout", &1]);
    let bg = background(PROXY, argv).await;
    let start = Instant::now();
    let got = get_poem(bg.addr(), T, MAX_POEM, |_| {}).await;
    let took = start.elapsed();
    assert!(matches!(got, Err(FetchError::Empty)), "{got:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    let stderr = stopped(bg).await;
    assert!(
        stderr.contains(&format!(
            "cannot fetch the poem from {silent}: timed out: nothing received for 1s after 0 bytes"
        )),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_sends_is_dropped_by_the_transform_service_after_the_timeout() {
    let argv = args(&[&"--timeout", &1]);
    let bg = background(TRANSFORM, argv).await;
    let start = Instant::now();
    let got = read_all(bg.addr(), b"").await.unwrap();
    let took = start.elapsed();
    assert!(got.is_empty(), "no reply: {got:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    let stderr = stopped(bg).await;
    assert!(stderr.contains("timed out after 1s"), "{stderr}");
}
