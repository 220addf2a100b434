//! What the fixed-rate tests of every bench (`echo-bench`, `redis-ops bench`, `rabbit-ops
//! bench`: issue 21) check of a run: one rule for the three, so that they cannot drift apart.
//! Each bench reports `target_rate`, `achieved_rate`, `rate_held` and `latency_ms` with a
//! `corrected` (from the due time) and a `service` (from the send) set of percentiles.

use serde_json::Value;

/// The bounds every bench puts on `--rate`, `--warmup` and `--duration`: flags, and the
/// usage error they get.
pub const BOUNDS: [(&[&str], &str); 4] = [
    (&["--rate", "0"], "error: --rate must be at least 1"),
    (
        &["--rate", "10000001"],
        "error: --rate must be at most 10000000",
    ),
    (
        &["--warmup", "86401"],
        "error: --warmup must be at most 86400 seconds",
    ),
    (
        &["--rate", "10", "--duration", "86401"],
        "error: --duration must be at most 86400 seconds",
    ),
];

/// The percentiles every report has, in the order they must be in.
const PERCENTILES: [&str; 6] = ["p50", "p90", "p99", "p99_9", "p99_99", "max"];

/// The latency `p` (`p50` ... `p99_99`, `max`) from the due time (`which` = `corrected`) or from
/// the send (`service`), in milliseconds.
pub fn latency_ms(v: &Value, which: &str, p: &str) -> f64 {
    v["latency_ms"][which][p]
        .as_f64()
        .unwrap_or_else(|| panic!("latency_ms.{which}.{p} in {v}"))
}

/// A run at `target` operations a second held it: achieved within 1%, `rate_held`; both sets
/// of percentiles positive and in order, and the corrected ones never below the service ones
/// (measured from the due time, an operation never waits less than from its send). Answers the
/// rate achieved.
pub fn assert_rate_held(v: &Value, target: f64) -> f64 {
    let achieved = v["achieved_rate"]
        .as_f64()
        .unwrap_or_else(|| panic!("achieved_rate in {v}"));
    assert_eq!(v["target_rate"].as_f64(), Some(target), "{v}");
    assert!(
        (achieved - target).abs() <= target / 100.0,
        "achieved {achieved} of {target}: {v}"
    );
    assert_eq!(v["rate_held"], true, "{v}");
    for which in ["corrected", "service"] {
        let values = PERCENTILES.map(|p| latency_ms(v, which, p));
        assert!(values[0] > 0.0, "{which}: {v}");
        assert!(
            values.windows(2).all(|w| w[0] <= w[1]),
            "{which} percentiles out of order: {v}"
        );
    }
    for p in ["p50", "p99"] {
        assert!(
            latency_ms(v, "corrected", p) >= latency_ms(v, "service", p),
            "corrected {p} below service {p}: {v}"
        );
    }
    eprintln!(
        "measured: --rate {target} achieved {achieved}/s, corrected p99 {} ms, service p99 {} ms",
        latency_ms(v, "corrected", "p99"),
        latency_ms(v, "service", "p99")
    );
    achieved
}

/// A run at 1000/s or less, frozen for one second in its middle, shows the freeze in the
/// corrected latency only: about a fifth of the operations were due during it and each waited
/// for what was left of it (corrected p99 at least 300 ms, corrected max from 800 ms to
/// `corrected_max_ms`, the catch-up after it on a busy machine), while only the few in flight
/// waited once sent (service p99 under 100 ms, service max at least 800 ms). The schedule
/// caught up: the rate was held.
pub fn assert_stall_in_corrected_only(v: &Value, corrected_max_ms: f64) {
    let (c99, cmax) = (
        latency_ms(v, "corrected", "p99"),
        latency_ms(v, "corrected", "max"),
    );
    let (s99, smax) = (
        latency_ms(v, "service", "p99"),
        latency_ms(v, "service", "max"),
    );
    eprintln!(
        "measured: a 1 s stall: corrected p99 {c99} max {cmax} ms; service p99 {s99} max {smax} ms"
    );
    assert!(c99 >= 300.0, "corrected p99 {c99}: {v}");
    assert!(
        (800.0..=corrected_max_ms).contains(&cmax),
        "corrected max {cmax}: {v}"
    );
    assert!(s99 < 100.0, "service p99 {s99}: {v}");
    assert!(smax >= 800.0, "the operations in flight waited too: {v}");
    assert_eq!(v["rate_held"], true, "{v}");
}

/// The live lines of `--progress` at 500 operations a second: line `i` (from 0) is
/// `<prefix>: <i + 1> s, <n> ops/s, p99 <x> ms (last second), 0 errors`, `n` 500 give or take
/// the edges of a second.
pub fn assert_progress_lines(lines: &[&str], prefix: &str) {
    for (i, line) in lines.iter().enumerate() {
        let rest = line
            .strip_prefix(&format!("{prefix}: {} s, ", i + 1))
            .unwrap_or_else(|| panic!("{line}"));
        let (ops, rest) = rest.split_once(" ops/s, p99 ").expect(line);
        let ops: u64 = ops.parse().expect(line);
        assert!((400..=600).contains(&ops), "{line}");
        assert!(rest.ends_with(" ms (last second), 0 errors"), "{line}");
    }
}
