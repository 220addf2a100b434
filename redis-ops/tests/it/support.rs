//! What only the redis-ops tests need; the rest comes from `test-support` (spawned binaries
//! with bounded waits, the shared Redis, private redis-servers, refused addresses).

use std::io::Write;
use std::process::Command;
use std::time::Duration;

pub use test_support::{PrivateRedis, Proc, Run, STEP, command, refused_addr, scan_keys};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_redis-ops");

/// The shared Redis's URL (`$REDIS_URL`, else 127.0.0.1:6379).
pub fn url() -> String {
    test_support::redis_url()
}

/// A connection to the shared Redis; fails the test loudly when it does not answer.
pub fn redis() -> redis::Connection {
    test_support::redis_conn()
}

/// The same server, database `db`.
pub fn redis_db(db: i64) -> redis::Connection {
    let mut conn = redis();
    redis::cmd("SELECT")
        .arg(db)
        .query::<()>(&mut conn)
        .expect("SELECT");
    conn
}

/// A name no other test (or test run) uses: `test:<what>-<pid>-<time>-<n>`.
pub fn unique(what: &str) -> String {
    test_support::unique(&format!("test:{what}"))
}

/// `redis-ops --url <the shared Redis>`.
pub fn cmd() -> Command {
    let mut c = bare();
    c.arg("--url").arg(url());
    c
}

/// `redis-ops` with neither `--url` nor `$REDIS_URL` (the caller gives one).
pub fn bare() -> Command {
    let mut c = command(BIN);
    c.env_remove("REDIS_URL");
    c
}

/// Runs `redis-ops --url <shared> args` to its end (a minute at most), no stdin.
pub fn run(args: &[&str]) -> Run {
    run_with(cmd().args(args), b"", Duration::from_mins(1))
}

/// Runs `command` to its end with `stdin`, killed (and the test failed) after `limit`.
pub fn run_with(command: &mut Command, stdin: &[u8], limit: Duration) -> Run {
    test_support::run(command, stdin, limit)
}

/// Output bytes (or text) as text.
pub fn text(bytes: impl AsRef<[u8]>) -> String {
    String::from_utf8_lossy(bytes.as_ref()).into_owned()
}

/// A port on 127.0.0.1 where connecting is refused, for as long as the test runs.
pub fn closed_port() -> u16 {
    refused_addr().port()
}

/// `redis-ops --url <r> args`, for a private server.
pub fn on(r: &PrivateRedis, args: &[&str]) -> Command {
    let mut c = bare();
    c.arg("--url").arg(r.url()).args(args);
    c
}

/// A finished run and the most memory it held (VmHWM, sampled every few milliseconds).
pub struct Measured {
    /// What it did (exit, output, time taken).
    pub run: Run,
    /// Its peak resident memory, in KiB (0 if it ended before the first sample).
    pub peak_kib: u64,
}

/// Runs `command` to its end with `stdin` (killed, and the test failed, after `within`),
/// sampling its peak memory while it runs.
pub fn measured(command: &mut Command, stdin: &[u8], within: Duration) -> Measured {
    let (proc, mut input) = Proc::spawn_with_stdin(command);
    let pid = proc.pid();
    let data = stdin.to_vec();
    std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let sampler = std::thread::spawn(move || {
        let mut peak = 0;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            else {
                break; // a zombie: it has exited
            };
            peak = kib;
            std::thread::sleep(Duration::from_millis(2));
        }
        peak
    });
    let run = proc.finish(within);
    Measured {
        run,
        peak_kib: sampler.join().unwrap_or(0),
    }
}

/// Asserts that `m` exited with `code` and printed exactly `stderr` (nothing on stdout unless
/// `code` is 0), within `took` and `kib` of memory; answers `m` for more checks.
pub fn assert_ended(m: &Measured, code: i32, stderr: &str, took: Duration, kib: u64) {
    let r = &m.run;
    assert_eq!(r.code(), Some(code), "{r:?}");
    assert_eq!(r.stderr, stderr, "{r:?}");
    assert!(r.took < took, "took {:?} (at most {took:?}): {r:?}", r.took);
    assert!(
        m.peak_kib < kib,
        "used {} KiB (at most {kib}): {r:?}",
        m.peak_kib
    );
}

/// A command line of each command that works on the redis crate's connections (multiplexed,
/// subscriber, the lesson's, pooled and reconnecting): what an edge of those connections is
/// tried with.
pub const ON_THE_CRATE: [&str; 7] = [
    "get k",
    "set k v",
    "incr k",
    "publish ch m",
    "subscribe ch",
    "lesson strings",
    "pool --size 2 --tasks 4",
];

/// [`ON_THE_CRATE`] and `more`.
pub fn on_the_crate_and<'a>(more: &[&'a str]) -> Vec<&'a str> {
    ON_THE_CRATE
        .iter()
        .copied()
        .chain(more.iter().copied())
        .collect()
}

/// The help line a usage error ends with.
pub const HELP: &str = "Run 'redis-ops --help' for usage.\n";

/// What a fake peer does with a connection.
#[derive(Clone, Copy, Debug)]
pub enum Peer {
    /// Answers every read with a line that is not RESP.
    Garbage,
    /// Closes the connection as soon as it has read something.
    Closes,
    /// Resets the connection (RST) as soon as it has read something.
    Resets,
    /// Answers every read with an AMQP protocol header, as RabbitMQ on 5672 does to a stranger.
    Amqp,
    /// Sends back every byte it reads.
    Echoes,
    /// Answers the first read with `+` and then bytes without end, never a CRLF: a reply
    /// line that never ends.
    Endless,
}

/// A fake server on 127.0.0.1 (a port of its own) that accepts every connection and treats it
/// as `peer` says, for as long as the test runs; answers its `redis://` URL.
pub fn fake_peer(peer: Peer) -> String {
    use std::io::Read;
    serve_each(move |mut s| {
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                return;
            }
            let answer: &[u8] = match peer {
                Peer::Endless => return Endless::Line.send(&mut s),
                Peer::Echoes => &buf[..n],
                Peer::Garbage => b"garbage, not RESP\r\n",
                Peer::Amqp => b"AMQP\x00\x00\x09\x01",
                Peer::Closes => return,
                Peer::Resets => {
                    let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
                    return;
                }
            };
            if s.write_all(answer).is_err() {
                return;
            }
        }
    })
}

/// A fake Redis on 127.0.0.1 that says the hello, refuses INFO and takes SET as a Redis does,
/// then answers GET with the first bytes of a bulk string and nothing more for 5 s (then `:1`
/// to what follows); answers its `redis://` URL.
pub fn cut_short_peer() -> String {
    serve_each(|mut s| {
        let mut from = std::io::BufReader::new(s.try_clone().expect("clone the socket"));
        while let Some(name) = command_name(&mut from) {
            let answer: &[u8] = match name.as_str() {
                "PING" => b"+PONG\r\n",
                "INFO" => b"-ERR unknown command 'INFO'\r\n",
                "AUTH" | "SELECT" | "CLIENT" | "SET" => b"+OK\r\n",
                "GET" => {
                    let _ = s.write_all(b"$5\r\nab");
                    std::thread::sleep(Duration::from_secs(5));
                    continue;
                }
                _ => b":1\r\n",
            };
            if s.write_all(answer).is_err() {
                return;
            }
        }
    })
}

/// A listener on 127.0.0.1 (a port of its own) that hands every connection to `handle` on a
/// thread of its own, for as long as the test runs; answers its `redis://` URL.
fn serve_each(handle: impl Fn(std::net::TcpStream) + Clone + Send + 'static) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("its address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let handle = handle.clone();
            std::thread::spawn(move || handle(stream));
        }
    });
    format!("redis://{addr}/0")
}

/// One command a client sends (`*N` then N `$len` arguments): its name in capitals.
fn command_name(from: &mut impl std::io::BufRead) -> Option<String> {
    let mut line = String::new();
    from.read_line(&mut line).ok()?;
    let n: usize = line.trim().strip_prefix('*')?.parse().ok()?;
    let mut name = None;
    for _ in 0..n.min(1024) {
        line.clear();
        from.read_line(&mut line).ok()?;
        let len: usize = line.trim().strip_prefix('$')?.parse().ok()?;
        let len = len.min(1 << 20);
        let mut arg = vec![0; len + 2];
        from.read_exact(&mut arg).ok()?;
        name.get_or_insert_with(|| String::from_utf8_lossy(&arg[..len]).to_uppercase());
    }
    name
}

/// What a [`polite_peer`] sends in answer to the first command past the hello: a reply that
/// never ends, in one of its shapes.
#[derive(Clone, Copy, Debug)]
pub enum Endless {
    /// `+` and then bytes without a CRLF.
    Line,
    /// An array announcing 2^31 values, then `:1` after `:1`.
    HugeArray,
    /// An array of 100,000 arrays of two values: more values than one reply may hold.
    Arrays,
    /// `*1` inside `*1` without end.
    Nested,
    /// A bulk string announcing 4 GiB, then its bytes.
    HugeBulk,
    /// `+a`, a bare LF (no CR: the line goes on), then `:1` and a bare LF without end: one
    /// endless line to the redis crate.
    BareLf,
    /// A blob error of length -1 (the crate would wait for 2^64 bytes), then `+OK` after `+OK`.
    NegativeBlob,
    /// An array of two: `$-0` (an empty bulk string, not a null) with its CRLF, then a line
    /// without end.
    MinusZero,
}

impl Endless {
    /// Every shape.
    pub const ALL: [Self; 8] = [
        Self::Line,
        Self::HugeArray,
        Self::Arrays,
        Self::Nested,
        Self::HugeBulk,
        Self::BareLf,
        Self::NegativeBlob,
        Self::MinusZero,
    ];

    /// What it sends first, and then again and again.
    fn bytes(self) -> (&'static [u8], Vec<u8>) {
        match self {
            Self::Line => (b"+", vec![b'a'; 64 * 1024]),
            Self::HugeArray => (b"*2147483648\r\n", b":1\r\n".repeat(16 * 1024)),
            Self::Arrays => (b"*100000\r\n", b"*2\r\n:1\r\n:2\r\n".repeat(8 * 1024)),
            Self::Nested => (b"", b"*1\r\n".repeat(16 * 1024)),
            Self::HugeBulk => (b"$4294967296\r\n", vec![b'b'; 64 * 1024]),
            Self::BareLf => (b"+a\n", b":1\n".repeat(16 * 1024)),
            Self::NegativeBlob => (b"!-1\r\n", b"+OK\r\n".repeat(16 * 1024)),
            Self::MinusZero => (b"*2\r\n$-0\r\n\r\n+", vec![b'a'; 64 * 1024]),
        }
    }

    /// Sends it to `s` until `s` fails.
    fn send(self, s: &mut impl Write) {
        let (first, again) = self.bytes();
        if s.write_all(first).is_ok() {
            while s.write_all(&again).is_ok() {}
        }
    }
}

/// A fake Redis on 127.0.0.1 that says the hello as a Redis does (`+OK` to AUTH, SELECT,
/// CLIENT and READONLY, `+PONG` to PING), then answers the first other command with `endless`;
/// answers its `redis://` URL.
pub fn polite_peer(endless: Endless) -> String {
    serve_each(move |mut s| {
        let mut from = std::io::BufReader::new(s.try_clone().expect("clone the socket"));
        while let Some(name) = command_name(&mut from) {
            let answer: &[u8] = match name.as_str() {
                "PING" => b"+PONG\r\n",
                "AUTH" | "SELECT" | "CLIENT" | "READONLY" => b"+OK\r\n",
                _ => return endless.send(&mut s),
            };
            if s.write_all(answer).is_err() {
                return;
            }
        }
    })
}

/// `redis-ops --url <url> args`.
pub fn at(url: &str, args: &[&str]) -> Command {
    let mut c = bare();
    c.arg("--url").arg(url).args(args);
    c
}

/// The words of `line` as arguments: `args("bench -c 4 -q")`.
pub fn args(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// Asserts that `run` exited with `code` and one stderr line starting with `starts`.
pub fn assert_one_line(run: &Run, code: i32, starts: &str) {
    assert_eq!(run.code(), Some(code), "{run:?}");
    assert_eq!(run.stderr_lines().len(), 1, "{run:?}");
    assert!(run.stderr.starts_with(starts), "{run:?}");
}

/// Spawns `subscribe` (`command`) and waits until it says it subscribed to `channel`.
pub fn subscribed(command: &mut Command, channel: &str) -> Proc {
    let mut p = Proc::spawn(command);
    let line = format!("subscribed to {channel}");
    p.wait_for_err_line(|l| l == line, STEP);
    p
}

/// Runs `command` with `stdin` ([`measured`]) and asserts how it ended ([`assert_ended`]).
pub fn ends_as(
    command: &mut Command,
    stdin: &[u8],
    (code, stderr): (i32, &str),
    (took, kib): (Duration, u64),
) -> Measured {
    let m = measured(command, stdin, Duration::from_secs(30));
    assert_ended(&m, code, stderr, took, kib);
    m
}
