//! What a run measured, as text or one JSON object.

use std::net::SocketAddr;

use common::latency::Summary;
use common::schedule::RateCheck;
use common::shutdown::Signal;

/// Round-trip percentiles, in microseconds (the service time: from each send).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// The slowest round trip.
    pub max: f64,
}

/// What a run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The server.
    pub addr: SocketAddr,
    /// Connections used.
    pub connections: usize,
    /// Bytes per message.
    pub size: usize,
    /// Seconds measured.
    pub seconds: f64,
    /// Messages echoed and checked.
    pub messages: u64,
    /// Messages per second.
    pub messages_per_sec: f64,
    /// Payload megabytes (10^6 bytes) echoed per second, counted once (not both directions).
    pub mb_per_sec: f64,
    /// Round-trip latency, from the send (kept for the scripts that read `latency_us`).
    pub latency_us: Percentiles,
    /// Both latencies: from the due time (corrected) and from the send (service).
    pub latency: Summary,
    /// The target rate, the rate achieved and whether the schedule was held.
    pub rate: RateCheck,
    /// Connections that failed: a differing echo, a closed or reset connection, no echo.
    pub errors: u64,
    /// The first error, in words.
    pub first_error: Option<String>,
    /// The signal that cut the run short; the report then covers what completed until it came.
    pub interrupted: Option<Signal>,
}

impl Report {
    /// The report as one JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        let l = &self.latency_us;
        let mut v = serde_json::json!({
            "addr": self.addr.to_string(),
            "connections": self.connections,
            "size": self.size,
            "seconds": round(self.seconds, 3),
            "messages": self.messages,
            "messages_per_sec": round(self.messages_per_sec, 1),
            "mb_per_sec": round(self.mb_per_sec, 2),
            "latency_us": {
                "p50": round(l.p50, 1),
                "p90": round(l.p90, 1),
                "p99": round(l.p99, 1),
                "p99_9": round(l.p999, 1),
                "max": round(l.max, 1),
            },
            "latency_ms": self.latency.json(),
            "errors": self.errors,
            "first_error": self.first_error,
        });
        if let Some(o) = v.as_object_mut() {
            self.rate.json_fields(o);
        }
        v
    }

    /// The report as text, a few aligned lines.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let l = &self.latency_us;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "echo-bench: {}, {} connection{} x {} B, {:.1} s",
            self.addr,
            self.connections,
            if self.connections == 1 { "" } else { "s" },
            self.size,
            self.seconds
        );
        let _ = writeln!(s, "messages/s   {:.0}", self.messages_per_sec);
        if let Some(target) = self.rate.target {
            let _ = writeln!(
                s,
                "rate         {:.0} of {target:.0} asked for: {}",
                self.rate.achieved,
                if self.rate.held == Some(true) {
                    "held"
                } else {
                    "NOT held"
                }
            );
        }
        let _ = writeln!(
            s,
            "MB/s         {:.2}  (payload echoed, one direction)",
            self.mb_per_sec
        );
        let _ = writeln!(
            s,
            "latency us   p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
            l.p50, l.p90, l.p99, l.p999, l.max
        );
        if self.rate.target.is_some() {
            let _ = writeln!(s, "{}", self.latency.lines());
        }
        let _ = writeln!(s, "messages     {}", self.messages);
        let _ = write!(s, "errors       {}", self.errors);
        if let Some(e) = &self.first_error {
            let _ = write!(s, "  (first: {e})");
        }
        s.push('\n');
        s
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}
