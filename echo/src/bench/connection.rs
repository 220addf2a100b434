//! One connection of the load generator: the ping-pong loop, the byte check, and the round
//! trips recorded in batches into the shared histogram (the hot path: keep it as it is).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use common::net::describe_io;

/// Sizes up to this are written then read; larger ones are written while being read.
const SEQUENTIAL_MAX: usize = 64 * 1024;

/// Spare room after a message in the read buffer.
const EXTRA: usize = 1024;

/// How a connection's run ended: `Some` error, or `None` when it ran to the end.
pub(super) type ConnResult = Option<String>;

/// Round trips recorded by every connection into one histogram, in batches: a connection keeps
/// its latest round trips in a small buffer of its own (sequential writes, cache-friendly) and
/// takes the lock once per [`BATCH`] messages. One histogram per connection would spread tens of
/// KiB of counters per connection over the cache.
#[derive(Clone)]
pub(super) struct Recorder {
    pub(super) shared: Arc<Mutex<Histogram<u64>>>,
    pub(super) progress: Arc<AtomicU64>,
}

/// Round trips kept by a connection before they go into the shared histogram.
const BATCH: usize = 256;

impl Recorder {
    fn flush(&self, batch: &mut Vec<u64>) {
        let mut hist = self.shared.lock().expect("no panic while recording");
        for &ns in batch.iter() {
            let _ = hist.record(ns);
        }
        drop(hist);
        self.progress
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        batch.clear();
    }
}

/// A connection's latest round trips, flushed into the shared histogram every [`BATCH`]
/// messages and when dropped: a connection stopped early (SIGINT, or stuck at the end) still
/// counts every echo it completed.
struct Batch {
    recorder: Recorder,
    round_trips: Vec<u64>,
}

impl Batch {
    fn new(recorder: Recorder) -> Self {
        Self {
            recorder,
            round_trips: Vec::with_capacity(BATCH),
        }
    }

    fn push(&mut self, ns: u64) {
        self.round_trips.push(ns);
        if self.round_trips.len() == BATCH {
            self.recorder.flush(&mut self.round_trips);
        }
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        self.recorder.flush(&mut self.round_trips);
    }
}

pub(super) fn new_histogram() -> Histogram<u64> {
    // Nanoseconds, 3 significant digits; grows to fit the slowest round trip.
    Histogram::new(3).expect("3 significant digits is valid")
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
    stop_at: Instant,
    recorder: Recorder,
) -> ConnResult {
    let mut msg = pattern(id, size);
    // Room beyond the message: a read that fills the message leaves the buffer part empty,
    // which tells the runtime the socket is drained (no extra read that would only block), and
    // bytes the server sends beyond the message are caught.
    let mut buf = vec![0u8; size + EXTRA];
    let mut batch = Batch::new(recorder);
    let mut messages = 0u64;
    let mut t0 = Instant::now();
    let error = loop {
        if t0 >= stop_at {
            break None;
        }
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
        batch.push((t1 - t0).as_nanos() as u64);
        t0 = t1;
        messages += 1;
    };
    drop(batch);
    error
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
