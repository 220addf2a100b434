//! What only the echo tests need; the rest comes from `test-support` (spawned binaries with
//! bounded waits, refused and silent addresses, the help check).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use test_support::{Proc, Run, STEP, Signal, command};

pub const SERVER: &str = env!("CARGO_BIN_EXE_echo-server");
pub const CLIENT: &str = env!("CARGO_BIN_EXE_echo-client");
pub const BENCH: &str = env!("CARGO_BIN_EXE_echo-bench");

/// A running echo-server binary on a free port, killed if the test ends without stopping it.
pub struct ServerProcess {
    proc: Proc,
    pub addr: SocketAddr,
    pub first_line: String,
}

impl ServerProcess {
    /// `echo-server --port 0 args...`, once it has said where it listens.
    pub fn start(args: &[&str]) -> Self {
        let mut proc = Proc::spawn(command(SERVER).args(["--port", "0"]).args(args));
        let first_line = proc.first_line(STEP);
        let addr = test_support::addr_in(&first_line);
        Self {
            proc,
            addr,
            first_line,
        }
    }

    /// Sends `sig`, waits for the exit, returns what the server did.
    pub fn stop(mut self, sig: Signal) -> Run {
        self.proc.signal(sig);
        self.proc.finish(STEP)
    }
}

/// Runs a binary with `stdin` fed in, bounded by [`STEP`].
pub fn run(bin: &str, args: &[&str], stdin: &[u8]) -> Run {
    test_support::run(command(bin).args(args), stdin, STEP)
}

/// Runs a binary whose stdout is a pipe its reader has already closed (`tool | head -c0`), with
/// `stdin` fed in, bounded by [`STEP`]. (`test_support::run` always reads stdout.)
pub fn run_with_closed_stdout(bin: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = spawn_with_closed_stdout(command(bin).args(args).stdin(Stdio::piped()));
    let mut input = child.stdin.take().expect("a piped stdin");
    let data = stdin.to_vec();
    // A child that does not read its input must not block the test.
    thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    finish(child, STEP)
}

/// Starts `cmd` with its stdout a pipe already closed by its reader and its stderr piped.
pub fn spawn_with_closed_stdout(cmd: &mut Command) -> Child {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    cmd.stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary")
}

/// Waits for `child` to exit within `limit` (killing it and failing the test otherwise); its
/// stderr, when piped, is read to the end.
pub fn finish(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{child:?} did not exit within {limit:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("the output")
}

/// Waits (at most [`STEP`]) until the process `pid` catches the signal `signo` (its handler is
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
            start.elapsed() < STEP,
            "process {pid} did not install a handler for signal {signo} within {STEP:?}"
        );
        thread::sleep(Duration::from_millis(10));
    }
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
