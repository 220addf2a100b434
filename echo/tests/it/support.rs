//! What only the echo tests need; the rest comes from `test-support` (spawned binaries with
//! bounded waits, closed outputs, refused and silent addresses, the help check).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::{Duration, Instant};

use test_support::{Closed, Proc, Run, STEP, Signal, command};

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

    /// The server's process id (to freeze it with SIGSTOP, say).
    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// Sends `sig`, waits for the exit, returns what the server did.
    pub fn stop(mut self, sig: Signal) -> Run {
        self.proc.signal(sig);
        self.proc.finish(STEP)
    }
}

/// `echo-server --port 0` with its stdout or stderr a closed pipe.
pub fn server_with_closed(closed: Closed) -> Proc {
    Proc::spawn_closed(
        command(SERVER).args(["--port", "0"]),
        closed,
        std::process::Stdio::null(),
    )
}

/// Runs a binary with `stdin` fed in, bounded by [`STEP`].
pub fn run(bin: &str, args: &[&str], stdin: &[u8]) -> Run {
    test_support::run(command(bin).args(args), stdin, STEP)
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

/// The peak memory (`VmHWM`, KiB) of the process `pid`, sampled every 2 ms on a thread until the
/// process has exited: call before the process does the work measured, read with
/// [`Peak::kib`] after it has exited. The peak is the kernel's own high-water mark, so a sample
/// taken at any time after the peak sees it; only a peak reached in the last 2 ms before the
/// exit could be missed.
pub struct Peak(thread::JoinHandle<u64>);

impl Peak {
    pub fn watch(pid: u32) -> Self {
        Self(thread::spawn(move || {
            let mut peak = 0;
            // Gone, or a zombie (its memory is freed, the status has no Vm lines any more).
            while let Some(kib) = high_water_mark(pid) {
                peak = peak.max(kib);
                thread::sleep(Duration::from_millis(2));
            }
            peak
        }))
    }

    /// The peak seen, in KiB (the process must have exited).
    pub fn kib(self) -> u64 {
        self.0.join().expect("the sampler does not panic")
    }
}

fn high_water_mark(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// `bin args`, run through `sh` with the open-file limit (soft and hard) set to `nofile`: the
/// binary cannot raise it.
pub fn with_fd_limit(nofile: u32, bin: &str, args: &[&str]) -> std::process::Command {
    let mut c = test_support::command("sh");
    c.args([
        "-c",
        &format!("ulimit -n {nofile} && exec \"$0\" \"$@\""),
        bin,
    ])
    .args(args);
    c
}

/// `bin args`, run through `sh` with the address space limited to `kib` KiB (`ulimit -v`): a
/// thread's stack, or any large allocation, is refused beyond it.
pub fn with_memory_limit(kib: u64, bin: &str, args: &[&str]) -> std::process::Command {
    let mut c = test_support::command("sh");
    c.args(["-c", &format!("ulimit -v {kib} && exec \"$0\" \"$@\""), bin])
        .args(args);
    c
}

/// `head -c BYTES /dev/zero`, running, as the stdin of a binary: bytes without a newline, and
/// no more of them than the binary reads (head stops on SIGPIPE when it exits). Killed when
/// dropped.
pub struct Zeros(std::process::Child);

impl Zeros {
    /// Starts it; the second value is the binary's stdin.
    pub fn start(bytes: u64) -> (Self, std::process::Stdio) {
        let mut head = std::process::Command::new("head")
            .args(["-c", &bytes.to_string(), "/dev/zero"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("head");
        let stdout = head.stdout.take().expect("a piped stdout");
        (Self(head), stdout.into())
    }
}

impl Drop for Zeros {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
