//! One connection of the load generator: the ping-pong loop, the byte check, and the latencies
//! recorded in batches into the shared histograms (the hot path: keep it as it is).
//!
//! Closed-loop, a message is sent when the previous echo is back: it is due when it is sent.
//! At a fixed rate ([`common::schedule`]) a message is due at its place in the schedule: the
//! connection waits for that time, or sends at once when it is late, and both latencies are
//! recorded, from the due time (corrected) and from the send (service).

use std::sync::{Arc, Mutex};

use common::latency::{Latency, micros};
use common::progress::Live;
use common::schedule::{Lag, Schedule, Window};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use common::net::describe_io;

/// Sizes up to this are written then read; larger ones are written while being read.
const SEQUENTIAL_MAX: usize = 64 * 1024;

/// Spare room after a message in the read buffer.
const EXTRA: usize = 1024;

/// How a connection's run ended: `Some` error, or `None` when it ran to the end; and how far
/// behind its schedule it was.
pub(super) type ConnResult = (Option<String>, Lag);

/// Latencies recorded by every connection into one pair of histograms, in batches: a
/// connection keeps its latest latencies in a small buffer of its own (sequential writes,
/// cache-friendly) and takes the lock once per [`BATCH`] messages. A pair of histograms per
/// connection would spread hundreds of KiB of counters per connection over the cache.
#[derive(Clone)]
pub(super) struct Recorder {
    pub(super) shared: Arc<Mutex<Latency>>,
    /// The live line's counters, when it is shown.
    pub(super) live: Option<Arc<Live>>,
}

/// Latencies kept by a connection before they go into the shared histograms.
const BATCH: usize = 256;

/// The longest a connection keeps its latencies before they go into the shared histograms
/// (and the live line), however few.
const BATCH_AGE: std::time::Duration = std::time::Duration::from_millis(100);

impl Recorder {
    fn flush(&self, batch: &mut Vec<(u64, u64)>) {
        let mut latency = self.shared.lock().expect("no panic while recording");
        for &(corrected, service) in batch.iter() {
            latency.record_micros(corrected, service);
        }
        drop(latency);
        if let Some(live) = &self.live {
            let corrected: Vec<u64> = batch.iter().map(|&(c, _)| c).collect();
            live.ops(&corrected);
        }
        batch.clear();
    }
}

/// A connection's latest latencies (corrected, service; microseconds), flushed into the shared
/// histograms every [`BATCH`] messages or [`BATCH_AGE`], and when dropped: a connection stopped early (SIGINT, or
/// stuck at the end) still counts every echo it completed.
struct Batch {
    recorder: Recorder,
    latencies: Vec<(u64, u64)>,
    since: Instant,
}

impl Batch {
    fn new(recorder: Recorder) -> Self {
        Self {
            recorder,
            latencies: Vec::with_capacity(BATCH),
            since: Instant::now(),
        }
    }

    /// One echo's latencies, answered at `now`.
    fn push(&mut self, corrected: u64, service: u64, now: Instant) {
        self.latencies.push((corrected, service));
        if self.latencies.len() == BATCH || now - self.since >= BATCH_AGE {
            self.recorder.flush(&mut self.latencies);
            self.since = now;
        }
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        self.recorder.flush(&mut self.latencies);
    }
}

/// When a connection sends: closed-loop (each message when the last echo is back) or on a
/// schedule; and which messages count.
pub(super) struct Pacing {
    /// `None`: closed-loop.
    pub(super) schedule: Option<Schedule>,
    /// The counted window (after the warm-up) and the end of sending.
    pub(super) window: Window,
}

/// A connection's message pattern: random bytes from a per-connection seed.
fn pattern(id: u64, size: usize) -> Vec<u8> {
    let mut x = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub(super) async fn ping_pong(
    mut stream: TcpStream,
    id: u64,
    size: usize,
    mut pacing: Pacing,
    recorder: Recorder,
) -> ConnResult {
    let mut msg = pattern(id, size);
    // Room beyond the message: a read that fills the message leaves the buffer part empty,
    // which tells the runtime the socket is drained (no extra read that would only block), and
    // bytes the server sends beyond the message are caught.
    let mut buf = vec![0u8; size + EXTRA];
    let mut batch = Batch::new(recorder);
    let mut lag = Lag::default();
    let mut messages = 0u64;
    let mut t0 = Instant::now();
    let error = loop {
        let due = match &mut pacing.schedule {
            Some(schedule) => {
                // The run ends at its end even when the schedule is behind: what was not sent
                // by then shows as a rate not held, never as a longer run.
                if pacing.window.is_over(schedule.due()) || pacing.window.is_over(t0) {
                    break None;
                }
                schedule.tick().await
            }
            None if pacing.window.is_over(t0) => break None,
            None => t0,
        };
        let sent = if pacing.schedule.is_some() {
            let sent = Instant::now();
            lag.note(due, sent);
            sent
        } else {
            t0
        };
        // Every message differs from the last: its first bytes are its sequence number.
        let seq = messages.to_le_bytes();
        let k = seq.len().min(size);
        msg[..k].copy_from_slice(&seq[..k]);
        let exchanged = if size <= SEQUENTIAL_MAX {
            exchange(&mut stream, &msg, &mut buf).await
        } else {
            let (mut rd, mut wr) = stream.split();
            let (w, r) = tokio::join!(wr.write_all(&msg), read_full(&mut rd, &mut buf));
            w.map_err(|e| format!("write failed: {}", describe_io(&e)))
                .and(r)
        };
        if let Err(e) = exchanged {
            break Some(e);
        }
        if buf[..size] != msg[..] {
            let at = buf.iter().zip(&msg).position(|(a, b)| a != b).unwrap_or(0);
            break Some(format!(
                "message {messages} on connection {id} came back different at byte {at}"
            ));
        }
        let t1 = Instant::now();
        if pacing.window.counts(due) {
            batch.push(micros(t1 - due), micros(t1 - sent), t1);
        }
        t0 = t1;
        messages += 1;
    };
    drop(batch);
    (error, lag)
}

async fn exchange(stream: &mut TcpStream, msg: &[u8], buf: &mut [u8]) -> Result<(), String> {
    stream
        .write_all(msg)
        .await
        .map_err(|e| format!("write failed: {}", describe_io(&e)))?;
    read_full(stream, buf).await
}

/// Reads one echo of `buf.len() - EXTRA` bytes into `buf`.
async fn read_full<R: AsyncReadExt + Unpin>(rd: &mut R, buf: &mut [u8]) -> Result<(), String> {
    let size = buf.len() - EXTRA;
    let mut got = 0;
    while got < size {
        match rd.read(&mut buf[got..]).await {
            Ok(0) => {
                return Err(format!(
                    "the server closed the connection ({got} of {size} bytes echoed)"
                ));
            }
            Ok(n) => got += n,
            Err(e) => return Err(format!("read failed: {}", describe_io(&e))),
        }
    }
    if got > size {
        return Err(format!(
            "the server sent {} bytes more than the message",
            got - size
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_differ_between_connections() {
        assert_ne!(pattern(0, 64), pattern(1, 64));
        assert_eq!(pattern(7, 64), pattern(7, 64));
        assert_eq!(pattern(3, 5).len(), 5);
    }
}
