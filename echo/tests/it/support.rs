//! What the echo tests share: the binaries, a running echo-server, bounded runs, fake servers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

pub const SERVER: &str = env!("CARGO_BIN_EXE_echo-server");
pub const CLIENT: &str = env!("CARGO_BIN_EXE_echo-client");
pub const BENCH: &str = env!("CARGO_BIN_EXE_echo-bench");

/// A running echo-server binary, killed if the test ends without stopping it.
pub struct ServerProcess {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub first_line: String,
    _stdout: ChildStdout,
}

impl ServerProcess {
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(SERVER)
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send((line, reader.into_inner()));
        });
        let Ok((line, stdout)) = rx.recv_timeout(Duration::from_secs(20)) else {
            let _ = child.kill();
            panic!("echo-server printed no first line within 20 s");
        };
        let line = line.trim_end().to_owned();
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .parse()
            .unwrap();
        Self {
            child: Some(child),
            addr,
            first_line: line,
            _stdout: stdout,
        }
    }

    /// Sends a signal (by name: TERM, INT), waits for the exit, returns (code, stderr).
    pub fn signal(&mut self, sig: &str) -> (Option<i32>, String) {
        let mut child = self.child.take().unwrap();
        let status = Command::new("kill")
            .args(["-s", sig, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = wait_for(&mut child, Duration::from_secs(20));
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        (status, stderr)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits for a child at most `limit`, killing it after that (then the test fails).
pub fn wait_for(child: &mut Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the process did not exit within {limit:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Runs a binary with `stdin` fed in, within 30 s.
pub fn run(bin: &str, args: &[&str], stdin: &[u8]) -> Output {
    run_with_stdout(bin, args, stdin, Stdio::piped())
}

/// Runs a binary whose stdout is a pipe already closed by its reader (`tool | head -c0`), with
/// `stdin` fed in, within 30 s.
pub fn run_with_closed_stdout(bin: &str, args: &[&str], stdin: &[u8]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    run_with_stdout(bin, args, stdin, Stdio::from(writer))
}

fn run_with_stdout(bin: &str, args: &[&str], stdin: &[u8], stdout: Stdio) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let (tx, rx) = mpsc::channel();
    let pid = child.id();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("{bin} {args:?} did not finish within 30 s")
        })
        .unwrap();
    feeder.join().unwrap();
    out
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A fake server on a thread: for each of `connections` clients, reads `len` bytes and
/// answers with `reply(bytes)`.
pub fn fake_server(
    connections: usize,
    len: usize,
    reply: fn(Vec<u8>) -> Vec<u8>,
) -> (SocketAddr, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        for _ in 0..connections {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut buf = vec![0u8; len];
            if s.read_exact(&mut buf).is_ok() {
                let _ = s.write_all(&reply(buf));
            }
        }
    });
    (addr, handle)
}

/// Waits (at most 20 s) until the process `pid` catches the signal `signo` (its handler is
/// installed: `SigCgt` in `/proc/PID/status`), so that sending it cannot kill the process
/// before it is ready, even when nothing on its stdout says so.
pub fn wait_for_handler(pid: u32, signo: u32) {
    let start = Instant::now();
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .is_some_and(|mask| mask & (1 << (signo - 1)) != 0);
        if caught {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "process {pid} did not install a handler for signal {signo} within 20 s"
        );
        thread::sleep(Duration::from_millis(10));
    }
}
