//! The recipes of docs/recipes.md (`echo/examples/recipe_*.rs`) run as documented: the server
//! echoes and stops on Ctrl-C, the client prints `Server said: ...`, or the notes' failure line.
//!
//! `cargo test -p echo` and `cargo nextest run -p echo` build the package's examples next to its
//! tests, in `target/<profile>/examples/`; this test finds them there from its own path. Beware
//! `--test recipes`: it builds this test alone and would run examples built earlier; to run only
//! these tests, filter at run time instead: `cargo nextest run -p echo -E 'binary(recipes)'`.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// `target/<profile>/examples/<name>`, from this test's `target/<profile>/deps/recipes-<hash>`.
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

/// Waits for `child` to exit within `limit`, killing it otherwise; returns its output.
fn finish(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{child:?} did not exit within {limit:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("the output")
}

/// Runs the client example with `args`, bounded in time.
fn client(args: &[&str]) -> Output {
    client_to(args, Stdio::piped())
}

/// Runs the client example with `args` and its stdout going to `stdout`, bounded in time.
fn client_to(args: &[&str], stdout: Stdio) -> Output {
    let child = Command::new(example("recipe_client"))
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start recipe_client");
    finish(child, Duration::from_secs(20))
}

/// The server example on port 0, and the address from its first line.
struct Server {
    child: Option<Child>,
    addr: String,
    /// The rest of stdout, sent once the server has exited.
    rest: mpsc::Receiver<String>,
}

impl Server {
    fn start() -> Self {
        let mut child = Command::new(example("recipe_server"))
            .arg("0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start recipe_server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            let _ = tx.send(first);
            // The rest (the `stopped` line) is read after the exit.
            let mut rest = String::new();
            let _ = reader.read_to_string(&mut rest);
            let _ = tx.send(rest);
        });
        let first = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("recipe_server printed no first line within 20 s")
            });
        let Some(port) = first.trim_end().strip_prefix("listening on 127.0.0.1:") else {
            panic!("unexpected first line {first:?}")
        };
        let addr = format!("127.0.0.1:{port}");
        Self {
            child: Some(child),
            addr,
            rest: rx,
        }
    }

    /// Ctrl-C (SIGINT): returns the exit code and the rest of stdout.
    fn interrupt(&mut self) -> (Option<i32>, String) {
        let child = self.child.take().expect("running");
        let status = Command::new("kill")
            .args(["-s", "INT", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s INT failed");
        let output = finish(child, Duration::from_secs(20));
        let rest = self
            .rest
            .recv_timeout(Duration::from_secs(5))
            .expect("the rest of the server's stdout");
        (output.status.code(), rest)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn the_recipes_talk_to_each_other_and_the_server_stops_on_ctrl_c() {
    let mut server = Server::start();

    let out = client(&[&server.addr]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Server said: hello alex!\n"
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let out = client(&[&server.addr, "hi there"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Server said: hi there\n"
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let (code, rest) = server.interrupt();
    assert_eq!(code, Some(0), "the server should exit 0 on Ctrl-C");
    assert_eq!(rest, "stopped after 2 connection(s)\n");
}

#[test]
fn the_client_recipe_says_goodbye_when_nothing_listens() {
    // A port where nothing listens, reserved for this test.
    let port = common::testing::refused_addr().port();
    let out = client(&[&format!("127.0.0.1:{port}")]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Connection failed - goodbye!\n"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!("error: cannot connect to 127.0.0.1:{port}: ")),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_client_recipe_gives_up_after_5_seconds_without_a_reply() {
    // A listener that accepts (the kernel does it) but never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let out = client(&[&addr]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("error: {addr}: no reply within 5 s\n")
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_server_recipe_refuses_a_taken_port_and_a_bad_one() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
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
        let child = Command::new(example("recipe_server"))
            .arg(arg)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start recipe_server");
        let out = finish(child, Duration::from_secs(20));
        assert_eq!(out.status.code(), Some(code), "{arg}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "", "{arg}");
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with(&stderr),
            "{arg}: {out:?}"
        );
    }
}

#[test]
fn the_recipes_do_not_panic_on_a_closed_stdout() {
    let mut server = Server::start();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = client_to(&[&server.addr], Stdio::from(writer));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{out:?}");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let (code, _) = server.interrupt();
    assert_eq!(code, Some(0));

    // The server with a closed stdout serves on, and stops on Ctrl-C with 0.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let child = Command::new(example("recipe_server"))
        .arg("0")
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .spawn()
        .expect("start recipe_server");
    crate::support::wait_for_handler(child.id(), 2);
    let status = Command::new("kill")
        .args(["-s", "INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let out = finish(child, Duration::from_secs(20));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{out:?}");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}
