//! What a test measured, and how it is printed: `redis-benchmark`'s `-q` line, the longer
//! block, `--json` and `--csv` (redis-benchmark's columns).
//!
//! The figures redis-benchmark prints (requests per second, p50, p99, max) are the service
//! time: from each batch's send to its last reply, as they always were. At a fixed rate the
//! block adds the rate achieved and both latencies ([`common::latency`]: from the time each
//! command was due, and from its send); `--json` carries them for every run.

use std::fmt::Write as _;
use std::time::Duration;

use common::latency::Latency;
use common::schedule::RateCheck;

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
    /// The counted time: from the first request (after the warm-up) to the last reply, or
    /// the `--duration`.
    pub elapsed: Duration,
    /// Latency of every answered request, microseconds: from its due time (corrected) and from
    /// its send (service; closed-loop, the two are the same).
    pub latency: Latency,
    /// The target rate (`--rate`), the rate achieved, and whether the schedule was held.
    pub rate: RateCheck,
}

impl TestReport {
    /// Successful requests per second.
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The service latency at quantile `q` (0.5, 0.99) in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        self.latency.service.value_at_quantile(q) as f64 / 1000.0
    }

    /// The slowest service latency in milliseconds.
    pub fn max_ms(&self) -> f64 {
        self.latency.service.max() as f64 / 1000.0
    }

    /// The `--csv` row, redis-benchmark's: test, rps, then the average, min, p50, p95, p99 and
    /// max service latencies in milliseconds, each quoted.
    pub fn csv_row(&self) -> String {
        let h = &self.latency.service;
        format!(
            "\"{}\",\"{:.2}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\"",
            self.test.name().to_ascii_uppercase(),
            self.rps(),
            h.mean() / 1000.0,
            if h.is_empty() {
                0.0
            } else {
                h.min() as f64 / 1000.0
            },
            self.ms(0.5),
            self.ms(0.95),
            self.ms(0.99),
            self.max_ms()
        )
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
            self.max_ms()
        );
        if let Some(target) = self.rate.target {
            let _ = writeln!(
                s,
                "  rate: {:.0} of {target:.0} requests per second asked for: {}",
                self.rate.achieved,
                if self.rate.held == Some(true) {
                    "held"
                } else {
                    "NOT held"
                }
            );
            for line in self.latency.summary().lines().lines() {
                let _ = writeln!(s, "  {line}");
            }
        }
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

/// The `--csv` header, redis-benchmark's.
pub const CSV_HEADER: &str = r#""test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms""#;

/// `--json`: `{"set":{"rps":..,"p50_ms":..,"p99_ms":..,"errors":..,"target_rate":..,
/// "achieved_rate":..,"rate_held":..,"schedule_lag_ms":..,"latency_ms":{"corrected":{..},
/// "service":{..}}},...}` (the first four as they always were; `target_rate` and `rate_held`
/// are null closed-loop).
pub fn json(reports: &[TestReport]) -> String {
    let fields: Vec<String> = reports
        .iter()
        .map(|r| {
            let mut rate = serde_json::Map::new();
            r.rate.json_fields(&mut rate);
            rate.insert("latency_ms".into(), r.latency.summary().json());
            let rate = serde_json::Value::Object(rate).to_string();
            format!(
                "\"{}\":{{\"rps\":{:.2},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"errors\":{},{}",
                r.test.name(),
                r.rps(),
                r.ms(0.5),
                r.ms(0.99),
                r.errors,
                &rate[1..]
            )
        })
        .collect();
    format!("{{{}}}", fields.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::schedule::Lag;

    #[test]
    fn quiet_line_and_json() {
        let mut latency = Latency::new();
        for _ in 0..60 {
            latency.record_micros(183, 183);
        }
        for _ in 0..40 {
            latency.record_micros(400, 400);
        }
        let r = TestReport {
            test: Test::Set,
            ok: 100,
            errors: 2,
            unsent: 0,
            reconnects: 0,
            first_error: None,
            elapsed: Duration::from_millis(500),
            latency,
            rate: RateCheck::new(None, 100, Duration::from_millis(500), Lag::default()),
        };
        assert_eq!(
            r.quiet_line(),
            "SET: 200.00 requests per second, p50=0.183 msec, p99=0.400 msec, errors=2"
        );
        // The fields scripts read come first, as they always did; the rate's and both
        // latencies follow.
        assert_eq!(
            json(std::slice::from_ref(&r)),
            concat!(
                r#"{"set":{"rps":200.00,"p50_ms":0.183,"p99_ms":0.400,"errors":2,"#,
                r#""achieved_rate":200.0,"latency_ms":{"corrected":{"max":0.4,"p50":0.183,"p90":0.4,"p99":0.4,"p99_9":0.4,"p99_99":0.4},"#,
                r#""service":{"max":0.4,"p50":0.183,"p90":0.4,"p99":0.4,"p99_9":0.4,"p99_99":0.4}},"#,
                r#""rate_held":null,"schedule_lag_ms":0.0,"target_rate":null}}"#
            )
        );
        let v: serde_json::Value = serde_json::from_str(&json(std::slice::from_ref(&r))).unwrap();
        assert_eq!(v["set"]["rps"], 200.0);
        assert_eq!(
            r.csv_row(),
            r#""SET","200.00","0.270","0.183","0.183","0.400","0.400","0.400""#
        );
        assert_eq!(
            CSV_HEADER,
            r#""test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms""#
        );
    }
}
