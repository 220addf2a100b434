//! The readiness check of `echo-client --wait`, `--json` and several addresses (issue 15): one
//! attempt against one server, for [`common::probe::check_all`], which adds the deadlines, the
//! retries with the shared backoff, the concurrency and the report lines.
//!
//! An attempt connects, sends a random line, reads it back and compares it byte for byte:
//!
//! - nothing listening, a reset, or a peer that closes before answering (a port forwarder whose
//!   server is not up yet does that): "not ready", worth trying again;
//! - a peer that answers other bytes (a banner, an error message): a permanent refusal,
//!   `not an echo server: it answered "..."`;
//! - a peer that accepts and never answers: bounded by the probe's timeout (`--timeout`).

use std::net::SocketAddr;
use std::time::Instant;

use common::net::describe_io;
use common::probe::{Passed, Refusal};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How an echo server is named in an `ok` line: `ok 127.0.0.1:1234: echo server, round trip
/// 0.1 ms`.
pub const SERVER: &str = "echo server";

/// The most servers one `echo-client` checks at once (one connection each).
pub const MAX_TARGETS: usize = 1000;

/// How many bytes of a wrong answer the refusal quotes.
const QUOTED: usize = 60;

/// One attempt: connect to `addr`, send a random line, read it back, compare. Not bounded in
/// time by itself: [`common::probe::check_all`] bounds each attempt by the probe's timeout.
pub async fn check(addr: SocketAddr) -> Result<Passed, Refusal> {
    let not_ready = |e: std::io::Error| Refusal::not_ready(describe_io(&e));
    let mut stream = TcpStream::connect(addr).await.map_err(not_ready)?;
    let _ = stream.set_nodelay(true);
    let line = random_line();
    let start = Instant::now();
    stream.write_all(&line).await.map_err(not_ready)?;
    let mut got = Vec::with_capacity(line.len());
    let mut buf = [0u8; 256];
    while got.len() < line.len() {
        let n = stream.read(&mut buf).await.map_err(not_ready)?;
        if n == 0 {
            return Err(Refusal::not_ready(if got.is_empty() {
                "the peer closed the connection without answering".to_owned()
            } else {
                format!(
                    "the peer closed the connection after echoing {} of {} bytes",
                    got.len(),
                    line.len()
                )
            }));
        }
        got.extend_from_slice(&buf[..n]);
        let upto = got.len().min(line.len());
        if got[..upto] != line[..upto] || got.len() > line.len() {
            return Err(Refusal::failed(format!(
                "not an echo server: it answered {}",
                quote(&got)
            )));
        }
    }
    Ok(Passed {
        server: SERVER.to_owned(),
        round_trip: start.elapsed(),
    })
}

/// A line no other check sends: `echo-client check <64 random bits in hex>\n`.
fn random_line() -> Vec<u8> {
    use std::hash::BuildHasher;
    // Each `RandomState` has keys of its own (random per process, then changed per call).
    let n = std::hash::RandomState::new().hash_one(std::time::SystemTime::now());
    format!("echo-client check {n:016x}\n").into_bytes()
}

/// The first bytes of an answer, quoted, non-printable bytes escaped: `"220 smtp ready\r\n"`.
fn quote(answer: &[u8]) -> String {
    let shown = &answer[..answer.len().min(QUOTED)];
    let more = if answer.len() > QUOTED { "..." } else { "" };
    format!("\"{}\"{more}", shown.escape_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_differ_and_answers_are_quoted() {
        let (a, b) = (random_line(), random_line());
        assert_ne!(a, b);
        assert!(a.starts_with(b"echo-client check ") && a.ends_with(b"\n"));
        assert_eq!(quote(b"220 ready\r\n"), r#""220 ready\r\n""#);
        assert_eq!(quote(&[b'x'; 70]), format!("\"{}\"...", "x".repeat(60)));
    }
}
