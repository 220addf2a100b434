//! The recipes of docs/recipes.md (`echo/examples/recipe_*.rs`) run as documented: the server
//! echoes and stops on Ctrl-C, the client prints `Server said: ...`, or the notes' failure line.
//!
//! `cargo test -p echo` and `cargo nextest run -p echo` build the package's examples next to its
//! tests, in `target/<profile>/examples/`; this test finds them there from its own path. Beware
//! `--test it`: it builds this test alone and would run examples built earlier; to run only
//! these tests, filter at run time instead: `cargo nextest run -p echo recipes::`.

use std::path::PathBuf;
use std::process::Stdio;

use test_support::{Closed, Proc, Run, STEP, command, refused_addr, silent_listener};

use crate::support::wait_for_handler;

/// `target/<profile>/examples/<name>`, from this test's `target/<profile>/deps/it-<hash>`.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.is_file(),
        "example {name} not built: expected {} (cargo test -p echo and cargo nextest run -p echo \
         build it; or run cargo build -p echo --examples)",
        path.display()
    );
    path
}

/// Runs the client example with `args`, bounded in time.
fn client(args: &[&str]) -> Run {
    test_support::run(command(example("recipe_client")).args(args), b"", STEP)
}

/// The server example on port 0, and the address from its first line.
struct Server {
    proc: Proc,
    addr: String,
}

impl Server {
    fn start() -> Self {
        let mut proc = Proc::spawn(command(example("recipe_server")).arg("0"));
        let first = proc.first_line(STEP);
        let Some(port) = first.strip_prefix("listening on 127.0.0.1:") else {
            panic!("unexpected first line {first:?}")
        };
        let addr = format!("127.0.0.1:{port}");
        Self { proc, addr }
    }

    /// Ctrl-C (SIGINT): returns the exit code and the rest of stdout.
    fn interrupt(mut self) -> (Option<i32>, String) {
        self.proc.interrupt();
        let run = self.proc.finish(STEP);
        let text = run.stdout_text();
        let rest = text
            .split_once('\n')
            .map_or("", |(_, rest)| rest)
            .to_owned();
        (run.code(), rest)
    }
}

#[test]
fn the_recipes_talk_to_each_other_and_the_server_stops_on_ctrl_c() {
    let server = Server::start();

    let out = client(&[&server.addr]);
    assert_eq!(out.stdout_text(), "Server said: hello alex!\n");
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let out = client(&[&server.addr, "hi there"]);
    assert_eq!(out.stdout_text(), "Server said: hi there\n");
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let (code, rest) = server.interrupt();
    assert_eq!(code, Some(0), "the server should exit 0 on Ctrl-C");
    assert_eq!(rest, "stopped after 2 connection(s)\n");
}

#[test]
fn the_client_recipe_says_goodbye_when_nothing_listens() {
    // A port where nothing listens, reserved for this test.
    let port = refused_addr().port();
    let out = client(&[&format!("127.0.0.1:{port}")]);
    assert_eq!(out.stdout_text(), "Connection failed - goodbye!\n");
    let stderr = &out.stderr;
    assert!(
        stderr.starts_with(&format!("error: cannot connect to 127.0.0.1:{port}: ")),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_client_recipe_gives_up_after_5_seconds_without_a_reply() {
    // A listener that accepts (the kernel does it) but never answers.
    let (_silent, addr) = silent_listener();
    let addr = addr.to_string();
    let out = client(&[&addr]);
    assert_eq!(out.stdout_text(), "");
    assert_eq!(out.stderr, format!("error: {addr}: no reply within 5 s\n"));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_server_recipe_refuses_a_taken_port_and_a_bad_one() {
    let (_taken, addr) = silent_listener();
    let port = addr.port().to_string();
    for (arg, code, stderr) in [
        (
            port.as_str(),
            1,
            format!("error: cannot listen on 127.0.0.1:{port}: "),
        ),
        (
            "http",
            2,
            "error: the port must be a number from 0 to 65535".to_owned(),
        ),
    ] {
        let out = test_support::run(command(example("recipe_server")).arg(arg), b"", STEP);
        assert_eq!(out.status.code(), Some(code), "{arg}: {out:?}");
        assert_eq!(out.stdout_text(), "", "{arg}");
        assert!(out.stderr.starts_with(&stderr), "{arg}: {out:?}");
    }
}

#[test]
fn the_recipes_do_not_panic_on_a_closed_stdout() {
    let server = Server::start();
    let out = test_support::run_with_closed_stdout(
        command(example("recipe_client")).arg(&server.addr),
        b"",
        STEP,
    );
    assert_eq!(out.stderr, "", "{out:?}");
    assert_eq!(out.code(), Some(0), "{out:?}");
    let (code, _) = server.interrupt();
    assert_eq!(code, Some(0));

    // The server with a closed stdout serves on, and stops on Ctrl-C with 0.
    let mut server = Proc::spawn_closed(
        command(example("recipe_server")).arg("0"),
        Closed::Stdout,
        Stdio::null(),
    );
    wait_for_handler(server.pid(), 2);
    server.interrupt();
    let out = server.finish(STEP);
    assert_eq!(out.stderr, "", "{out:?}");
    assert_eq!(out.code(), Some(0), "{out:?}");
}
