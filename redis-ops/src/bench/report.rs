//! What a test measured, and how it is printed: `redis-benchmark`'s `-q` line, the longer
//! block, and `--json`.

use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::{BenchOptions, Test};

/// What one test measured.
#[derive(Debug, Clone)]
pub struct TestReport {
    /// The test.
    pub test: Test,
    /// Requests answered as expected.
    pub ok: u64,
    /// Requests that failed: an error reply, or no reply (connection lost, no answer in time).
    pub errors: u64,
    /// Requests never sent (a connection gave up reconnecting).
    pub unsent: u64,
    /// Times a connection was made again after it broke.
    pub reconnects: u64,
    /// The first failure, as one line.
    pub first_error: Option<String>,
    /// From the first request to the last reply.
    pub elapsed: Duration,
    /// Latency of every answered request, microseconds.
    pub latency: Histogram<u64>,
}

impl TestReport {
    /// Successful requests per second.
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency at quantile `q` (0.5, 0.99) in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }

    /// The `-q` line: `SET: 140548.14 requests per second, p50=0.183 msec, p99=0.391 msec, errors=0`.
    pub fn quiet_line(&self) -> String {
        format!(
            "{}: {:.2} requests per second, p50={:.3} msec, p99={:.3} msec, errors={}",
            self.test.name().to_ascii_uppercase(),
            self.rps(),
            self.ms(0.5),
            self.ms(0.99),
            self.errors
        )
    }

    /// The longer report (without `-q`).
    pub fn long(&self, o: &BenchOptions) -> String {
        let mut s = format!(
            "====== {} ======\n  {} requests completed in {:.2} seconds\n  {} parallel clients\n  {} bytes payload\n  pipeline {}\n",
            self.test.name().to_ascii_uppercase(),
            self.ok + self.errors,
            self.elapsed.as_secs_f64(),
            o.clients,
            o.data_size,
            o.pipeline
        );
        let _ = writeln!(
            s,
            "  latency (msec): p50={:.3} p99={:.3} max={:.3}",
            self.ms(0.5),
            self.ms(0.99),
            self.latency.max() as f64 / 1000.0
        );
        let _ = writeln!(
            s,
            "  errors: {} (reconnects: {}, not sent: {})",
            self.errors, self.reconnects, self.unsent
        );
        if let Some(e) = &self.first_error {
            let _ = writeln!(s, "  first error: {e}");
        }
        s.push_str(&self.quiet_line());
        s
    }
}

/// `--json`: `{"set":{"rps":..,"p50_ms":..,"p99_ms":..,"errors":..},...}`.
pub fn json(reports: &[TestReport]) -> String {
    let fields: Vec<String> = reports
        .iter()
        .map(|r| {
            format!(
                "\"{}\":{{\"rps\":{:.2},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"errors\":{}}}",
                r.test.name(),
                r.rps(),
                r.ms(0.5),
                r.ms(0.99),
                r.errors
            )
        })
        .collect();
    format!("{{{}}}", fields.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_line_and_json() {
        let mut latency = Histogram::new_with_bounds(1, 60_000_000, 3).unwrap();
        latency.record_n(183, 60).unwrap();
        latency.record_n(400, 40).unwrap();
        let r = TestReport {
            test: Test::Set,
            ok: 100,
            errors: 2,
            unsent: 0,
            reconnects: 0,
            first_error: None,
            elapsed: Duration::from_millis(500),
            latency,
        };
        assert_eq!(
            r.quiet_line(),
            "SET: 200.00 requests per second, p50=0.183 msec, p99=0.400 msec, errors=2"
        );
        assert_eq!(
            json(&[r]),
            r#"{"set":{"rps":200.00,"p50_ms":0.183,"p99_ms":0.400,"errors":2}}"#
        );
    }
}
