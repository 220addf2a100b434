//! The live line of a bench: once a second on stderr, the elapsed time, the rate of the last
//! second, its p99 (corrected, from the due time) and the errors so far, as redis-benchmark
//! shows its running rate. On a terminal the line rewrites itself; elsewhere (CI logs) nothing
//! is printed unless asked for (`--progress`), and then each second is a line of its own.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// What the connections report while they run: shared, cheap to update.
#[derive(Debug)]
pub struct Live {
    ops: AtomicU64,
    errors: AtomicU64,
    second: Mutex<Histogram<u64>>,
}

impl Live {
    fn new() -> Self {
        Self {
            ops: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            second: Mutex::new(crate::latency::histogram()),
        }
    }

    /// One operation answered, `corrected` microseconds after it was due.
    pub fn op(&self, corrected: u64) {
        self.ops.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut h) = self.second.lock() {
            let _ = h.record(corrected.clamp(1, crate::latency::MAX_MICROS));
        }
    }

    /// Several operations at once, their corrected latencies in microseconds.
    pub fn ops(&self, corrected: &[u64]) {
        self.ops
            .fetch_add(corrected.len() as u64, Ordering::Relaxed);
        if let Ok(mut h) = self.second.lock() {
            for &us in corrected {
                let _ = h.record(us.clamp(1, crate::latency::MAX_MICROS));
            }
        }
    }

    /// One failed operation.
    pub fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// Whether to show the live line: on a terminal, or when asked (`--progress`).
pub fn wanted(asked: bool) -> bool {
    asked || std::io::stderr().is_terminal()
}

/// The thread that prints the live line; [`Ticker::stop`] ends it and clears the line.
#[derive(Debug)]
pub struct Ticker {
    live: Arc<Live>,
    thread: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl Ticker {
    /// Starts printing once a second if `show` (see [`wanted`]), prefixed with `label` (a test
    /// name, or the tool's). Without `show` the counters are kept and nothing is printed.
    pub fn start(label: &str, show: bool) -> Self {
        let live = Arc::new(Live::new());
        if !show {
            return Self { live, thread: None };
        }
        let done = Arc::new(AtomicBool::new(false));
        let terminal = std::io::stderr().is_terminal();
        let (l, d, label) = (Arc::clone(&live), Arc::clone(&done), label.to_owned());
        let spawned = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || tick(&l, &d, &label, terminal));
        // A refused thread only costs the live line: the run goes on without it.
        let thread = spawned.ok().map(|h| (done, h));
        Self { live, thread }
    }

    /// The counters the connections update.
    pub fn live(&self) -> Arc<Live> {
        Arc::clone(&self.live)
    }

    /// Stops the line (and clears it on a terminal).
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        if let Some((done, handle)) = self.thread.take() {
            done.store(true, Ordering::Relaxed);
            handle.thread().unpark();
            let _ = handle.join();
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.finish();
    }
}

fn tick(live: &Live, done: &AtomicBool, label: &str, terminal: bool) {
    let start = Instant::now();
    let mut next = start + Duration::from_secs(1);
    let mut last_ops = 0;
    let mut stderr = std::io::stderr();
    loop {
        while !done.load(Ordering::Relaxed) && Instant::now() < next {
            std::thread::park_timeout(next.saturating_duration_since(Instant::now()));
        }
        if done.load(Ordering::Relaxed) {
            break;
        }
        let ops = live.ops.load(Ordering::Relaxed);
        let p99 = live.second.lock().map_or(0.0, |mut h| {
            let p = if h.is_empty() {
                0.0
            } else {
                h.value_at_quantile(0.99) as f64 / 1e3
            };
            h.reset();
            p
        });
        let line = line(
            label,
            start.elapsed(),
            ops - last_ops,
            p99,
            live.errors.load(Ordering::Relaxed),
        );
        last_ops = ops;
        // A closed stderr only loses the line.
        let _ = if terminal {
            write!(stderr, "\r\x1b[2K{line}")
        } else {
            writeln!(stderr, "{line}")
        };
        let _ = stderr.flush();
        next += Duration::from_secs(1);
    }
    if terminal {
        let _ = write!(stderr, "\r\x1b[2K");
        let _ = stderr.flush();
    }
}

/// `SET: 3 s, 10012 ops/s, p99 1.230 ms (last second), 0 errors`
fn line(label: &str, elapsed: Duration, ops: u64, p99_ms: f64, errors: u64) -> String {
    format!(
        "{label}: {} s, {ops} ops/s, p99 {p99_ms:.3} ms (last second), {errors} errors",
        elapsed.as_secs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line() {
        assert_eq!(
            line("SET", Duration::from_millis(3020), 10012, 1.23, 0),
            "SET: 3 s, 10012 ops/s, p99 1.230 ms (last second), 0 errors"
        );
    }

    #[test]
    fn counters_without_a_line() {
        let t = Ticker::start("x", false);
        let live = t.live();
        live.op(10);
        live.ops(&[1, 2, 3]);
        live.error();
        assert_eq!(live.ops.load(Ordering::Relaxed), 4);
        assert_eq!(live.errors.load(Ordering::Relaxed), 1);
        assert_eq!(live.second.lock().unwrap().len(), 4);
        t.stop();
    }

    #[test]
    fn a_ticker_stops_at_once() {
        let t = Ticker::start("x", true);
        let started = Instant::now();
        t.stop();
        assert!(started.elapsed() < Duration::from_millis(500));
    }
}
