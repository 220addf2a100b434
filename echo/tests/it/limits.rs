//! Issue 13, bounds: every count and size of the three binaries has an upper bound, checked
//! before anything is allocated or connected (a usage error naming the bound, exit 2, at once,
//! in a few MB); a resource the machine refuses at run time (descriptors, threads) is one error
//! line, exit 1, never a panic; an input line too long for a datagram is refused without being
//! held whole.

use std::time::{Duration, Instant};

use test_support::{Proc, STEP, command};

use crate::support::{
    BENCH, CLIENT, SERVER, ServerProcess, Zeros, with_fd_limit, with_memory_limit,
};

/// The address space every usage-error run gets (`ulimit -v`, KiB): a binary that allocated
/// for what it was asked (1,000,000,000 connections, 100,000,000 threads) would abort instead
/// of answering.
const USAGE_MEMORY_KIB: u64 = 100 * 1024;

/// How long a usage error may take: it is refused before anything is done.
const AT_ONCE: Duration = Duration::from_secs(2);

fn name_of(bin: &str) -> &str {
    std::path::Path::new(bin)
        .file_name()
        .and_then(|n| n.to_str())
        .expect("a binary name")
}

/// `bin args` exits 2 at once, in [`USAGE_MEMORY_KIB`] of address space, with exactly
/// `error: <message>` and the help line; answers how long it took.
fn refused(bin: &str, args: &[&str], message: &str) -> Duration {
    let name = name_of(bin);
    let out = test_support::run(
        &mut with_memory_limit(USAGE_MEMORY_KIB, bin, args),
        b"",
        STEP,
    );
    let shown: Vec<&str> = args.iter().map(|a| &a[..a.len().min(20)]).take(6).collect();
    let help = format!("Run '{name} --help' for usage.");
    assert_eq!(
        out.stderr,
        format!("error: {message}\n{help}\n"),
        "{name} {shown:?}"
    );
    assert_eq!(out.code(), Some(2), "{name} {shown:?}");
    assert_eq!(out.stdout, b"", "{name} {shown:?}");
    assert!(out.took < AT_ONCE, "{name} {shown:?}: {:?}", out.took);
    out.took
}

#[test]
fn every_count_and_size_is_refused_over_its_bound_at_once_in_little_memory() {
    let long = "x".repeat(65_508);
    let ports: Vec<String> = (1..=1001).map(|p| p.to_string()).collect();
    let ports: Vec<&str> = ports.iter().map(String::as_str).collect();
    let year = |option: &str| {
        format!("invalid value '1e12' for {option}: '1e12' seconds is more than a year")
    };
    let took = [
        refused(
            SERVER,
            &["--max-connections", "1000001"],
            "--max-connections must be at most 1000000",
        ),
        refused(
            SERVER,
            &["--threads", "100000000"],
            "--threads must be at most 1024",
        ),
        refused(SERVER, &["--idle-timeout", "1e12"], &year("--idle-timeout")),
        refused(
            CLIENT,
            &["--udp", "--message", &long],
            "--message must be at most 65507 bytes with --udp, not 65508",
        ),
        refused(
            CLIENT,
            &ports,
            "at most 1000 addresses can be checked at once, not 1001",
        ),
        refused(CLIENT, &["--wait", "1e12"], &year("--wait")),
        refused(
            BENCH,
            &["--connections", "1000000000"],
            "--connections must be between 1 and 100000",
        ),
        refused(
            BENCH,
            &["--threads", "100000000"],
            "--threads must be at most 1024",
        ),
        refused(
            BENCH,
            &["--size", "18446744073709551615"],
            "--size must be between 1 and 16777216 bytes",
        ),
        refused(
            BENCH,
            &["--connections", "1000", "--size", "1000000"],
            "--connections x --size must be at most 268435456 bytes, not 1000000000",
        ),
        refused(BENCH, &["--duration", "1e12"], &year("--duration")),
    ];
    let slowest = took.iter().max().expect("some");
    eprintln!(
        "measured: {} usage errors, each within {USAGE_MEMORY_KIB} KiB of address space, the \
         slowest in {slowest:?}",
        took.len()
    );
}

#[test]
fn too_few_descriptors_for_the_connections_is_one_line() {
    let server = ServerProcess::start(&[]);
    let addr = server.addr.to_string();
    let args = [addr.as_str(), "--connections", "50000", "--duration", "1"];
    let out = test_support::run(&mut with_fd_limit(256, BENCH, &args), b"", STEP);
    assert_eq!(
        out.stderr,
        "error: cannot open 50000 connections: the open-file limit is 256 (ulimit -n)\n"
    );
    assert_eq!(out.code(), Some(1));
    assert_eq!(out.stdout, b"");
    assert!(out.took < AT_ONCE, "{:?}", out.took);
    eprintln!(
        "measured: echo-bench with 256 descriptors refused in {:?}",
        out.took
    );

    // Within the limit, the same run goes ahead.
    let args = [addr.as_str(), "--connections", "200", "--duration", "0.2"];
    let out = test_support::run(&mut with_fd_limit(256, BENCH, &args), b"", STEP);
    out.assert_success();
}

#[test]
fn threads_the_system_refuses_are_one_line() {
    // No thread can start (RLIMIT_NPROC 1): the runtime is refused before it is built.
    for bin in [SERVER, BENCH] {
        let name = name_of(bin);
        let args = ["--threads", "1024", "--port", "0"];
        let args = if bin == SERVER { &args[..] } else { &args[..2] };
        let out = test_support::run(&mut test_support::without_threads(bin, args), b"", STEP);
        let line = out.stderr.trim_end();
        assert!(
            line.starts_with("error: cannot start the async runtime: the system gave ")
                && line.contains(" of 1024 worker threads: ")
                && line.ends_with(": resource temporarily unavailable")
                && !out.stderr.contains("panicked"),
            "{name}: {out:?}"
        );
        assert_eq!(out.stderr.lines().count(), 1, "{name}: {out:?}");
        assert_eq!(out.code(), Some(1), "{name}: {out:?}");
        assert!(out.took < Duration::from_secs(5), "{name}: {:?}", out.took);
        eprintln!(
            "measured: {name} --threads 1024 without threads refused in {:?}",
            out.took
        );
    }
}

#[test]
fn a_line_longer_than_a_datagram_is_refused_without_reading_the_rest() {
    let server = ServerProcess::start(&["--udp"]);
    // 1 GB without a newline: a reader that looked for the end of the line would hold it all,
    // and could not in 400 MB of address space.
    let (zeros, input) = Zeros::start(1_000_000_000);
    let started = Instant::now();
    let addr = server.addr.to_string();
    let client = Proc::spawn_with(
        &mut with_memory_limit(400 * 1024, CLIENT, &["--udp", "--stdin", &addr]),
        input,
    );
    let peak = crate::support::Peak::watch(client.pid());
    let out = client.finish(STEP);
    let took = started.elapsed();
    drop(zeros);
    assert_eq!(
        out.stderr,
        "error: line 1 of the input is longer than 65507 bytes, the most one UDP datagram holds\n"
    );
    assert_eq!(out.code(), Some(1));
    assert_eq!(out.stdout, b"");
    assert!(took < AT_ONCE, "{took:?}");
    let kib = peak.kib();
    assert!(kib < 30 * 1024, "peak {kib} KiB");
    eprintln!("measured: a 1 GB line refused in {took:?}, peak RSS {kib} KiB");

    // Lines up to the bound all go through, one datagram each, in bounded memory.
    let lines: Vec<u8> = (0..40u8)
        .flat_map(|i| {
            let mut line = vec![b'a' + i % 26; 65_506];
            line.push(b'\n');
            line
        })
        .collect();
    let (client, mut stdin) =
        Proc::spawn_with_stdin(command(CLIENT).args(["--udp", "--stdin", &addr]));
    let peak = crate::support::Peak::watch(client.pid());
    std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&lines);
    });
    let out = client.finish(STEP);
    out.assert_success();
    assert_eq!(out.stdout.len(), 40 * 65_507);
    let kib = peak.kib();
    assert!(kib < 30 * 1024, "peak {kib} KiB");
    eprintln!(
        "measured: 40 lines of 65507 bytes in {:?}, peak RSS {kib} KiB",
        out.took
    );
}
