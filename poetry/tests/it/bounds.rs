//! Issue 13, bounds: every count and size option has an upper bound checked before anything is
//! allocated, read or connected (a usage error naming it, exit 2, at once); a poem file must be a
//! regular file no larger than --max-poem-size; a resource the system refuses at run time (a
//! thread, a descriptor) is one error line, not a panic.

use std::process::Command;
use std::time::Duration;

use test_support::{STEP, command, temp_file};

use super::errors::usage;
use super::support::{CLIENT, PROXY, SERVER, TRANSFORM, poem_path, s};

#[test]
fn every_count_and_size_of_poetry_server_has_an_upper_bound() {
    let file = poem_path("science.txt");
    let file = file.to_str().unwrap();
    usage(
        SERVER,
        "poetry-server",
        &[
            (
                &[file, "--threads", "100000000"],
                "--threads must be from 1 to 1024",
            ),
            (
                &[file, "--max-connections", "1000001"],
                "--max-connections must be at most 1000000",
            ),
            (
                &[file, "--max-connections", "18446744073709551615"],
                "--max-connections must be at most 1000000",
            ),
            (
                &[file, "--num-bytes", "1073741825"],
                "--num-bytes must be at most 1073741824",
            ),
            (
                &[file, "--max-poem-size", "0"],
                "--max-poem-size must be 1 or more",
            ),
            (
                &[file, "--max-poem-size", "1073741825"],
                "--max-poem-size must be at most 1073741824",
            ),
            (
                &[file, "--delay", "1e300"],
                "invalid value '1e300' for --delay: '1e300' seconds is more than a year",
            ),
        ],
    );
}

#[test]
fn every_count_and_size_of_poetry_client_has_an_upper_bound() {
    usage(
        CLIENT,
        "poetry-client",
        &[
            (
                &["9000", "--concurrency", "1000000000"],
                "--concurrency must be at most 1000000",
            ),
            (
                &["9000", "--max-poem-size", "0"],
                "--max-poem-size must be 1 or more",
            ),
            (
                &["9000", "--max-poem-size", "1073741825"],
                "--max-poem-size must be at most 1073741824",
            ),
            (
                &["9000", "--timeout", "1e300"],
                "invalid value '1e300' for --timeout: '1e300' seconds is more than a year",
            ),
        ],
    );
    // One address more than the bound, checked before any is parsed.
    let many = vec!["9000"; 100_001];
    usage(
        CLIENT,
        "poetry-client",
        &[(&many, "at most 100000 addresses, not 100001")],
    );
}

#[test]
fn every_count_and_size_of_poetry_transform_and_proxy_has_an_upper_bound() {
    usage(
        TRANSFORM,
        "poetry-transform",
        &[
            (
                &["--max-length", "1073741825"],
                "--max-length must be at most 1073741824",
            ),
            (
                &["--max-connections", "1000001"],
                "--max-connections must be at most 1000000",
            ),
        ],
    );
    usage(
        PROXY,
        "poetry-proxy",
        &[
            (
                &["9000", "--max-connections", "1000001"],
                "--max-connections must be at most 1000000",
            ),
            (
                &["9000", "--max-poem-size", "1073741825"],
                "--max-poem-size must be at most 1073741824",
            ),
            (
                &["9000", "--max-poem-size", "0"],
                "--max-poem-size must be 1 or more",
            ),
        ],
    );
}

/// `/dev/zero` never ends, a FIFO blocks its reader until a writer comes, a folder is no poem:
/// each is refused before it is opened (a usage error, at once), and so is a file over
/// --max-poem-size.
#[test]
fn a_poem_file_must_be_a_regular_file_no_larger_than_the_max_poem_size() {
    let (_dir, big) = temp_file("big.txt", &[b'a'; 2000]);
    let folder = big.parent().unwrap();
    let fifo = folder.join("poem.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (fifo, big, folder) = (
        fifo.to_str().unwrap(),
        big.to_str().unwrap(),
        folder.to_str().unwrap(),
    );
    let not_regular = |p: &str| format!("{p} is not a regular file");
    usage(
        SERVER,
        "poetry-server",
        &[
            (&["/dev/zero"], &not_regular("/dev/zero")),
            (&[fifo], &not_regular(fifo)),
            (&[folder], &not_regular(folder)),
            (
                &[big, "--max-poem-size", "1000"],
                &format!("{big}: poem larger than 1000 bytes (--max-poem-size)"),
            ),
        ],
    );
    // At the limit, it is served.
    let mut server = test_support::Proc::spawn(command(SERVER).args(s(&[
        "--port",
        "0",
        "--max-poem-size",
        "2000",
        big,
    ])));
    assert!(
        server
            .first_line(STEP)
            .starts_with(&format!("Serving {big} on "))
    );
    server.terminate();
    assert_eq!(server.finish(STEP).code(), Some(0));
}

/// `bin args` where no thread can start ([`test_support::without_threads`]).
fn without_threads(bin: &str, args: &[&str]) -> test_support::Run {
    test_support::run(&mut test_support::without_threads(bin, args), b"", STEP)
}

#[test]
fn a_thread_the_system_refuses_is_an_error_line_not_a_panic() {
    let file = poem_path("science.txt");
    let out = without_threads(
        SERVER,
        &["--port", "0", "--threads", "2", file.to_str().unwrap()],
    );
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert_eq!(
        out.stderr,
        "error: cannot start the async runtime: the system gave 0 of 2 worker threads: \
         resource temporarily unavailable\n"
    );
    assert!(out.took < Duration::from_secs(5), "{out:?}");
    let out = without_threads(CLIENT, &["9000"]);
    assert_eq!(out.code(), Some(1), "{out:?}");
    assert_eq!(
        out.stderr,
        "error: cannot start the downloads thread: resource temporarily unavailable\n"
    );
    assert!(out.stdout.is_empty(), "{out:?}");
}

#[test]
fn no_descriptor_left_is_an_error_line_not_a_panic() {
    let file = poem_path("science.txt");
    let file = file.to_str().unwrap();
    for (bin, args) in [
        (SERVER, vec!["--port", "0", file]),
        (CLIENT, vec!["9000"]),
        (TRANSFORM, vec![]),
        (PROXY, vec!["9000"]),
    ] {
        // stdin, stdout and stderr, and two more: not enough for the runtime.
        let out = test_support::run(
            command("prlimit").arg("--nofile=5:5").arg(bin).args(&args),
            b"",
            STEP,
        );
        assert_eq!(out.code(), Some(1), "{out:?}");
        assert_eq!(
            out.stderr, "error: cannot start the async runtime: too many open files\n",
            "{bin}"
        );
        assert!(out.took < Duration::from_secs(5), "{out:?}");
    }
}
