//! Two latencies per operation, each in an HDR histogram: from the time the operation was due
//! (*corrected*: what a user of the service waits, stalls included) and from the time it was
//! sent (*service* time: what the server took once it had the request). A closed-loop run sends
//! each operation when it is due, so its two latencies are the same.
//!
//! The report shape is every bench's: p50, p90, p99, p99.9, p99.99 and max, in milliseconds
//! ([`Percentiles`]), under `latency_ms.corrected` and `latency_ms.service` in JSON.

use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::time::Instant;

use crate::schedule::round;

/// The slowest latency recorded as itself: an hour, in microseconds; slower ones are recorded
/// as an hour (a bench run is bounded well below it).
pub(crate) const MAX_MICROS: u64 = 3_600_000_000;

/// A histogram of microseconds from 1 µs to an hour, 3 significant digits (about 190 KiB).
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds")
}

/// `d` in whole microseconds, at least 1 and at most an hour: what [`histogram`] records.
pub fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, MAX_MICROS)
}

/// The corrected and the service latencies of a run (or of one connection, merged later).
#[derive(Clone)]
pub struct Latency {
    /// From the due time to the answer.
    pub corrected: Histogram<u64>,
    /// From the send to the answer.
    pub service: Histogram<u64>,
}

impl fmt::Debug for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Latency")
            .field("count", &self.count())
            .finish_non_exhaustive()
    }
}

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

impl Latency {
    /// Empty histograms.
    pub fn new() -> Self {
        Self {
            corrected: histogram(),
            service: histogram(),
        }
    }

    /// One operation, due at `due`, sent at `sent`, answered at `done`.
    pub fn record(&mut self, due: Instant, sent: Instant, done: Instant) {
        self.record_micros(
            micros(done.saturating_duration_since(due)),
            micros(done.saturating_duration_since(sent)),
        );
    }

    /// One operation whose two latencies are already in microseconds.
    pub fn record_micros(&mut self, corrected: u64, service: u64) {
        // Values are clamped to the histogram's range: recording cannot fail.
        let _ = self.corrected.record(corrected.clamp(1, MAX_MICROS));
        let _ = self.service.record(service.clamp(1, MAX_MICROS));
    }

    /// Adds another run's (or connection's) operations.
    pub fn add(&mut self, other: &Latency) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.corrected.add(&other.corrected);
        let _ = self.service.add(&other.service);
    }

    /// Operations recorded.
    pub fn count(&self) -> u64 {
        self.service.len()
    }

    /// Forgets every operation (a progress line's last second).
    pub fn reset(&mut self) {
        self.corrected.reset();
        self.service.reset();
    }

    /// The percentiles of both.
    pub fn summary(&self) -> Summary {
        Summary {
            corrected: Percentiles::of(&self.corrected),
            service: Percentiles::of(&self.service),
        }
    }
}

/// The percentiles every bench reports, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Percentiles {
    /// The median.
    pub p50: f64,
    /// The 90th percentile.
    pub p90: f64,
    /// The 99th.
    pub p99: f64,
    /// The 99.9th.
    pub p99_9: f64,
    /// The 99.99th.
    pub p99_99: f64,
    /// The slowest.
    pub max: f64,
}

impl Percentiles {
    /// Of a histogram of microseconds (all 0 for an empty one).
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1e3;
        Self {
            p50: ms(0.5),
            p90: ms(0.9),
            p99: ms(0.99),
            p99_9: ms(0.999),
            p99_99: ms(0.9999),
            max: h.max() as f64 / 1e3,
        }
    }

    /// `{"p50":…, "p90":…, "p99":…, "p99_9":…, "p99_99":…, "max":…}` (milliseconds, to the
    /// microsecond).
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "p50": round(self.p50, 3),
            "p90": round(self.p90, 3),
            "p99": round(self.p99, 3),
            "p99_9": round(self.p99_9, 3),
            "p99_99": round(self.p99_99, 3),
            "max": round(self.max, 3),
        })
    }
}

impl fmt::Display for Percentiles {
    /// `p50 0.210 p90 0.350 p99 0.812 p99.9 1.503 p99.99 2.100 max 3.020 ms`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50 {:.3} p90 {:.3} p99 {:.3} p99.9 {:.3} p99.99 {:.3} max {:.3} ms",
            self.p50, self.p90, self.p99, self.p99_9, self.p99_99, self.max
        )
    }
}

/// Both latencies' percentiles.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    /// From the due time.
    pub corrected: Percentiles,
    /// From the send.
    pub service: Percentiles,
}

impl Summary {
    /// `{"corrected": {…}, "service": {…}}`: the value of `latency_ms`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "corrected": self.corrected.json(),
            "service": self.service.json(),
        })
    }

    /// Two report lines, aligned:
    /// `latency from the due time (corrected): p50 … ms` and
    /// `latency from the send (service):       p50 … ms`.
    pub fn lines(&self) -> String {
        format!(
            "{:<39}{}\n{:<39}{}",
            "latency from the due time (corrected):",
            self.corrected,
            "latency from the send (service):",
            self.service
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stall_shows_in_the_corrected_latency_only() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut l = Latency::new();
        // 1000 operations of 1 ms each, due every ms; then a stall of 1 s delays the next ten
        // sends by up to a second, each still served in 1 ms once sent.
        for i in 0..1000 {
            let due = t0 + ms(i);
            l.record(due, due, due + ms(1));
        }
        for i in 0..10 {
            let due = t0 + ms(1000 + i);
            let sent = t0 + ms(2000);
            l.record(due, sent, sent + ms(1));
        }
        let s = l.summary();
        assert_eq!(l.count(), 1010);
        assert!((s.service.max - 1.0).abs() < 0.01, "{s:?}");
        assert!((s.corrected.max - 1001.0).abs() < 1.0, "{s:?}");
        assert!(s.corrected.p99_9 > 900.0, "{s:?}");
        assert!(s.service.p99_9 < 1.01, "{s:?}");
    }

    #[test]
    fn report_shapes() {
        let mut l = Latency::new();
        l.record_micros(1500, 500);
        let mut other = Latency::new();
        other.record_micros(2500, 700);
        l.add(&other);
        let s = l.summary();
        assert_eq!(
            s.json().to_string(),
            r#"{"corrected":{"max":2.501,"p50":1.5,"p90":2.501,"p99":2.501,"p99_9":2.501,"p99_99":2.501},"service":{"max":0.7,"p50":0.5,"p90":0.7,"p99":0.7,"p99_9":0.7,"p99_99":0.7}}"#
        );
        assert_eq!(
            s.service.to_string(),
            "p50 0.500 p90 0.700 p99 0.700 p99.9 0.700 p99.99 0.700 max 0.700 ms"
        );
        assert_eq!(
            s.lines(),
            "latency from the due time (corrected): p50 1.500 p90 2.501 p99 2.501 p99.9 2.501 p99.99 2.501 max 2.501 ms\n\
             latency from the send (service):       p50 0.500 p90 0.700 p99 0.700 p99.9 0.700 p99.99 0.700 max 0.700 ms"
        );
        assert_eq!(Latency::new().summary(), Summary::default());
        l.reset();
        assert_eq!(l.count(), 0);
    }

    #[test]
    fn out_of_range_values_are_clamped() {
        assert_eq!(micros(Duration::ZERO), 1);
        assert_eq!(micros(Duration::from_hours(2)), MAX_MICROS);
        let mut l = Latency::new();
        l.record_micros(0, u64::MAX);
        assert_eq!(l.count(), 1);
    }
}
