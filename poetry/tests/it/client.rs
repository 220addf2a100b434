//! poetry-client: the per-task lines, stdout in argument order, failures told apart from whole
//! poems, exit codes, many addresses, the transform with its fallback.

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use poetry::client::{FetchError, Observer, Options, TaskReport, download_all, get_poem};
use poetry::server::Config;
use test_support::{STEP, refused_addr, silent_listener};

use super::errors::{spawn_piped, wait_bounded};
use super::support::{
    CLIENT, MAX_POEM, args, empty_server, mib, peak_memory, poem, poetry_server, resetting_server,
    run_bin_async, serving, transform_server,
};

#[tokio::test]
async fn refused_timed_out_reset_and_empty_servers_fail_while_the_others_succeed() {
    let (ecstasy, good1) = serving("ecstasy.txt").await;
    let (alla_sera, good2) = serving("alla_sera.txt").await;
    let refused = refused_addr();
    let (_keep, silent) = silent_listener();
    let reset = resetting_server(ecstasy.clone(), 1000).await;
    let empty = empty_server().await;

    let out = run_bin_async(
        CLIENT,
        args(&[
            &good1.addr,
            &refused,
            &good2.addr,
            &silent,
            &reset,
            &empty,
            &good1.addr,
            &"--timeout",
            &"1",
        ]),
    )
    .await;

    assert_eq!(out.code(), Some(1), "some downloads failed: {}", out.stderr);
    // Only whole poems, in argument order.
    assert_eq!(out.stdout, [&ecstasy[..], &alla_sera, &ecstasy].concat());
    let lines: Vec<&str> = out.stderr.lines().collect();
    let line = |task: usize| {
        let prefix = format!("Task {task}: ");
        let found: Vec<&&str> = lines.iter().filter(|l| l.starts_with(&prefix)).collect();
        assert_eq!(found.len(), 1, "one line for task {task}: {}", out.stderr);
        (*found[0]).to_owned()
    };
    let got = |task: usize, bytes: usize, addr: SocketAddr| {
        let l = line(task);
        let head = format!("Task {task}: got {bytes} bytes of poetry from {addr} in ");
        assert!(l.starts_with(&head), "{l}");
        let secs = l[head.len()..].strip_suffix('s').expect("ends in s");
        assert!(
            secs.len() >= 5 && secs.parse::<f64>().is_ok(),
            "seconds with 3 decimals: {l}"
        );
    };
    got(1, 3003, good1.addr);
    got(3, 577, good2.addr);
    got(7, 3003, good1.addr);
    assert_eq!(
        line(2),
        format!("Task 2: failed to get poetry from {refused}: connection refused")
    );
    assert_eq!(
        line(4),
        format!(
            "Task 4: failed to get poetry from {silent}: timed out: nothing received for 1s after 0 bytes"
        )
    );
    assert_eq!(
        line(5),
        format!(
            "Task 5: failed to get poetry from {reset}: connection reset after 1000 bytes: the poem is incomplete"
        )
    );
    assert_eq!(
        line(6),
        format!(
            "Task 6: failed to get poetry from {empty}: the server closed the connection without sending a poem"
        )
    );
    let last = lines.last().unwrap();
    assert!(last.starts_with("Got 3 poems in "), "{last}");
}

#[tokio::test]
async fn all_good_exits_0_with_the_poems_alone_on_stdout() {
    let poem = poem("science.txt");
    let server = poetry_server(Config::new(poem.clone())).await;
    let port = server.addr.port().to_string();
    // A bare port means 127.0.0.1.
    let out = run_bin_async(CLIENT, vec![port.clone(), format!("localhost:{port}")]).await;
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, [&poem[..], &poem].concat());
    assert!(
        out.stderr
            .lines()
            .last()
            .unwrap()
            .starts_with("Got 2 poems in "),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains('\u{1b}'),
        "no progress bars when stderr is not a terminal"
    );
}

#[tokio::test]
async fn bad_addresses_and_usage_exit_2() {
    for (argv, says) in [
        (vec!["abc"], "Ports must be integers."),
        (vec!["9000", "localhost:x"], "Ports must be integers."),
        (vec![], "give at least one address"),
        (vec!["9000", "--timeout", "0"], "--timeout"),
        (vec!["9000", "--concurrency", "0"], "--concurrency"),
        (
            vec!["9000", "--transform", "nope"],
            "Ports must be integers.",
        ),
    ] {
        let out = run_bin_async(CLIENT, argv.iter().map(ToString::to_string).collect()).await;
        assert_eq!(out.code(), Some(2), "{argv:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{argv:?}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
}

#[tokio::test]
async fn three_thousand_addresses_at_bounded_concurrency_all_succeed() {
    let poem = poem("fascination.txt");
    let server = poetry_server(Config::new(poem.clone())).await;
    let mut argv: Vec<String> = vec![server.addr.to_string(); 3000];
    argv.extend(["--concurrency".into(), "200".into()]);
    let out = run_bin_async(CLIENT, argv).await;
    assert_eq!(
        out.code(),
        Some(0),
        "{}",
        &out.stderr[..out.stderr.len().min(2000)]
    );
    assert_eq!(out.stdout.len(), 3000 * poem.len());
    assert!(out.stdout.chunks(poem.len()).all(|p| p == &poem[..]));
    assert!(!out.stderr.contains("failed"));
    assert!(out.stderr.contains("Got 3000 poems in "));
    assert_eq!(server.stop().await.poems, 3000);
}

/// Issue 22.7: a reader of stdout that stalls does not make the client hold every poem. With
/// 200 addresses of a 1 MiB poem at `--concurrency 4`, the client holds four poems at most
/// while nobody reads (and starts no fifth download), far under the 200 MiB it held before;
/// once read, every poem comes out whole and in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_reader_of_stdout_holds_at_most_concurrency_poems() {
    const BOUND: u64 = 32 << 20;
    let line = b"the sea, the sea, and the long light on it\n";
    let poem: Vec<u8> = line.iter().copied().cycle().take(1 << 20).collect();
    let server = poetry_server(Config::new(poem.clone())).await;
    let mut argv = args(&[&"--concurrency", &4, &"--max-poem-size", &(1 << 20)]);
    argv.extend(std::iter::repeat_n(server.addr.to_string(), 200));
    let (stalled, stdout, status, stderr) = tokio::task::spawn_blocking(move || {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let mut child = spawn_piped(CLIENT, &argv);
        let lines = lines_of(child.stderr.take().unwrap());
        let mut seen = Vec::new();
        while !seen.iter().any(|l: &String| l.starts_with("Task 4: got ")) {
            seen.push(lines.recv_timeout(STEP).expect("the fourth poem"));
        }
        // The rest would have come by now (200 poems take well under a second).
        std::thread::sleep(Duration::from_millis(500));
        seen.extend(lines.try_iter());
        let stalled = (peak_memory(child.id()), seen);
        let stdout = read_in_background(child.stdout.take().unwrap())
            .recv_timeout(STEP)
            .expect("stdout to its end");
        let status = wait_bounded(&mut child);
        let stderr: Vec<String> = lines.iter().collect();
        (stalled, stdout, status, stderr)
    })
    .await
    .unwrap();
    let (peak, seen) = stalled;
    eprintln!("client peak memory with stdout stalled: {}", mib(peak));
    assert!(peak < BOUND, "peak memory {} while stalled", mib(peak));
    assert!(
        !seen.iter().any(|l| l.starts_with("Task 5: ")),
        "a fifth download began while four poems waited: {seen:?}"
    );
    assert_eq!(status.code(), Some(0), "{stderr:?}");
    assert_eq!(stdout.len(), 200 * poem.len());
    assert!(stdout.chunks(poem.len()).all(|p| p == &poem[..]));
    assert!(
        stderr
            .last()
            .is_some_and(|l| l.starts_with("Got 200 poems in ")),
        "{stderr:?}"
    );
}

/// The lines of `from`, read on a thread of their own.
fn lines_of(from: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

/// All of `from`, read on a thread of its own.
fn read_in_background(mut from: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = from.read_to_end(&mut all);
        let _ = tx.send(all);
    });
    rx
}

/// Records what the download reports, and the most downloads in progress at once.
#[derive(Default)]
struct Recorder {
    reports: Mutex<Vec<(usize, bool)>>,
    now: Mutex<(usize, usize)>,
}

impl Observer for Recorder {
    fn started(&self, _task: usize, _addr: SocketAddr) {
        let mut n = self.now.lock().unwrap();
        n.0 += 1;
        n.1 = n.1.max(n.0);
    }
    fn finished(&self, report: &TaskReport) {
        self.now.lock().unwrap().0 -= 1;
        self.reports
            .lock()
            .unwrap()
            .push((report.task, report.result.is_ok()));
    }
}

#[tokio::test]
async fn downloads_run_at_most_concurrency_at_once_and_come_out_in_order() {
    // Slow poems finishing in reverse order of the arguments still come out in order.
    let slow =
        poetry_server(Config::new(poem("science.txt")).slow(Duration::from_millis(20), 200)).await;
    let fast = poetry_server(Config::new(poem("fascination.txt"))).await;
    let addrs = vec![slow.addr, fast.addr, slow.addr, fast.addr, fast.addr];
    let recorder = Arc::new(Recorder::default());
    let options = Options {
        timeout: Duration::from_secs(10),
        max_poem_size: MAX_POEM,
        concurrency: 2,
        transform: None,
        checks: None,
        stop: tokio_util::sync::CancellationToken::new(),
    };
    let mut out = Vec::new();
    let summary = download_all(addrs, &options, recorder.clone(), |settled| {
        out.extend_from_slice(&settled.poem.unwrap_or_default());
        Ok::<_, Infallible>(())
    })
    .await
    .unwrap();
    assert_eq!((summary.got, summary.failed), (5, 0));
    let (s, f) = (poem("science.txt"), poem("fascination.txt"));
    assert_eq!(out, [&s[..], &f, &s, &f, &f].concat());
    assert_eq!(recorder.now.lock().unwrap().1, 2, "two at a time, no more");
    let mut tasks: Vec<usize> = recorder
        .reports
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.0)
        .collect();
    tasks.sort_unstable();
    assert_eq!(tasks, [1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn only_a_clean_close_completes_a_poem() {
    let ecstasy = poem("ecstasy.txt");
    let reset = resetting_server(ecstasy.clone(), 2000).await;
    let t = Duration::from_secs(5);
    assert!(matches!(
        get_poem(reset, t, MAX_POEM, |_| {}).await,
        Err(FetchError::Reset { got: 2000 })
    ));
    assert!(matches!(
        get_poem(empty_server().await, t, MAX_POEM, |_| {}).await,
        Err(FetchError::Empty)
    ));
    let (_keep, silent) = silent_listener();
    assert!(matches!(
        get_poem(silent, Duration::from_millis(200), MAX_POEM, |_| {}).await,
        Err(FetchError::TimedOut { got: 0, .. })
    ));
    match get_poem(refused_addr(), t, MAX_POEM, |_| {}).await {
        Err(e @ FetchError::Connect(_)) => assert_eq!(e.to_string(), "connection refused"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn transform_cummingsifies_and_falls_back_to_the_original_poem() {
    let (ecstasy, s1) = serving("ecstasy.txt").await;
    let (alla_sera, s2) = serving("alla_sera.txt").await;
    let service = transform_server(poetry::transform::Config::default()).await;

    let out = run_bin_async(
        CLIENT,
        args(&[&s1.addr, &s2.addr, &"--transform", &service.addr]),
    )
    .await;
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
    let lower = |p: &[u8]| std::str::from_utf8(p).unwrap().to_lowercase();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        lower(&ecstasy) + &lower(&alla_sera)
    );
    assert!(
        out.stderr.contains(&format!(
            "Task 2: cummingsified via {} (577 bytes)",
            service.addr
        )),
        "{}",
        out.stderr
    );
    assert_eq!(service.stop().await.transformed, 2);

    // The service is gone: the original poems, and a word about it.
    let gone = refused_addr();
    let out = run_bin_async(CLIENT, args(&[&s1.addr, &s2.addr, &"--transform", &gone])).await;
    assert_eq!(
        out.code(),
        Some(0),
        "the poems still arrived: {}",
        out.stderr
    );
    assert_eq!(out.stdout, [&ecstasy[..], &alla_sera].concat());
    assert!(
        out.stderr.contains(&format!(
            "Task 1: cummingsify via {gone} failed: connection refused; keeping the original poem"
        )),
        "{}",
        out.stderr
    );

    // A service that rejects the request (here: a poem over its length limit).
    let strict = transform_server(poetry::transform::Config {
        max_length: 1000,
        ..Default::default()
    })
    .await;
    let out = run_bin_async(
        CLIENT,
        args(&[&s1.addr, &s2.addr, &"--transform", &strict.addr]),
    )
    .await;
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(ecstasy.to_vec()).unwrap() + &lower(&alla_sera),
        "the long poem kept as it was, the short one cummingsified"
    );
    assert!(
        out.stderr.contains(&format!(
            "Task 1: cummingsify via {} failed: the service closed the connection without a reply; keeping the original poem",
            strict.addr
        )),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn progress_bars_appear_when_stderr_is_a_terminal() {
    // `script` (util-linux) runs the client on a pseudo-terminal.
    assert!(
        std::process::Command::new("script")
            .arg("--version")
            .output()
            .is_ok(),
        "this test needs `script` (util-linux, apt-get install bsdutils)"
    );
    let poem = poem("science.txt");
    let slow = poetry_server(Config::new(poem.clone()).slow(Duration::from_millis(100), 200)).await;
    let command = format!("{CLIENT} {} 2>&1 >/dev/null", slow.addr);
    let out = run_bin_async("script", args(&[&"-qec", &command, &"/dev/null"])).await;
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.code(), Some(0), "{terminal}");
    assert!(
        terminal.contains(&format!(" B from {}", slow.addr)),
        "a spinner for the download: {terminal:?}"
    );
    assert!(
        terminal.contains("/1 poems"),
        "the overall bar: {terminal:?}"
    );
    assert!(
        terminal.contains(&format!(
            "Task 1: got 653 bytes of poetry from {}",
            slow.addr
        )) && terminal.contains("Got 1 poems in "),
        "the report lines too: {terminal:?}"
    );
}
