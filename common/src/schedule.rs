//! Load at a fixed rate (open loop), the way wrk2 (`-R`), memtier_benchmark
//! (`--rate-limiting`) and RabbitMQ PerfTest (`--rate`) apply it.
//!
//! A closed-loop generator sends its next request when the previous answer arrives: during a
//! stall it stops sending, so the requests real clients would have sent meanwhile are never
//! measured (coordinated omission). Here every operation has a time it is *due*, fixed in
//! advance: `--rate N` operations per second in all, spread evenly over the connections
//! ([`Schedule::for_connection`]). A connection waits until its next operation is due, or sends
//! at once when it is already late. Its latency is measured twice ([`crate::latency`]): from
//! the time it was due (what a user of the service sees, *corrected*) and from the time it was
//! sent (*service* time).
//!
//! [`RateCheck`] then says whether the schedule was held: the achieved rate beside the target,
//! and how far behind the schedule the run ended.

use std::time::Duration;

use tokio::time::Instant;

/// The highest `--rate` any bench takes: 10 million operations per second, far beyond what one
/// generator on one machine sends, and small enough that the interval stays above a nanosecond
/// per connection.
pub const MAX_RATE: u64 = 10_000_000;

/// The longest `--duration` or `--warmup`: a day.
pub const MAX_SECS: u64 = 86_400;

/// How a run is paced and how long it lasts, as the command line gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    /// `--rate`: operations per second in all; `None` is closed-loop.
    pub rate: Option<u64>,
    /// `--warmup`: time at the start whose operations are not counted.
    pub warmup: Duration,
}

impl Pace {
    /// Closed-loop, no warm-up: the benches as they always ran.
    pub const CLOSED: Self = Self {
        rate: None,
        warmup: Duration::ZERO,
    };

    /// Checks `--rate` (1 to [`MAX_RATE`]) and `--warmup` (at most [`MAX_SECS`]); the message
    /// is a usage error's.
    pub fn new(rate: Option<u64>, warmup: Option<Duration>) -> Result<Self, String> {
        if let Some(r) = rate {
            if r == 0 {
                return Err("--rate must be at least 1".to_owned());
            }
            if r > MAX_RATE {
                return Err(format!("--rate must be at most {MAX_RATE}"));
            }
        }
        let warmup = warmup.unwrap_or_default();
        if warmup > Duration::from_secs(MAX_SECS) {
            return Err(format!("--warmup must be at most {MAX_SECS} seconds"));
        }
        Ok(Self { rate, warmup })
    }
}

/// Checks a `--duration`: more than 0 and at most [`MAX_SECS`].
pub fn duration(d: Duration) -> Result<Duration, String> {
    if d.is_zero() {
        return Err("--duration must be more than 0".to_owned());
    }
    if d > Duration::from_secs(MAX_SECS) {
        return Err(format!("--duration must be at most {MAX_SECS} seconds"));
    }
    Ok(d)
}

/// The due times of one connection's operations: the `k`-th of `n` connections sharing a rate
/// of `rate` operations per second sends one every `n / rate` seconds, starting `k / rate`
/// seconds after `start`, so that all of them together are evenly spaced.
#[derive(Debug, Clone)]
pub struct Schedule {
    start: Instant,
    first: Duration,
    interval: f64,
    index: u64,
}

impl Schedule {
    /// Connection `k` (from 0) of `n`, sharing `rate` operations per second from `start`.
    pub fn for_connection(start: Instant, rate: u64, k: usize, n: usize) -> Self {
        let rate = rate.max(1) as f64;
        Self {
            start,
            first: Duration::from_secs_f64(k as f64 / rate),
            interval: n.max(1) as f64 / rate,
            index: 0,
        }
    }

    /// When the next operation is due.
    pub fn due(&self) -> Instant {
        self.start + self.first + Duration::from_secs_f64(self.interval * self.index as f64)
    }

    /// The next operation's due time, and the schedule moves on to the one after it.
    pub fn next_due(&mut self) -> Instant {
        let due = self.due();
        self.index += 1;
        due
    }

    /// Waits until the next operation is due (at once when it is late) and returns its due
    /// time.
    pub async fn tick(&mut self) -> Instant {
        let due = self.next_due();
        if due > Instant::now() {
            tokio::time::sleep_until(due).await;
        }
        due
    }

    /// The same for a thread that is not in a runtime (rabbit-ops's blocking publishers).
    pub fn tick_blocking(&mut self) -> Instant {
        let due = self.next_due();
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        due
    }

    /// The seconds between two operations of this connection.
    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64(self.interval)
    }
}

/// The window whose operations are counted: from the end of the warm-up to the end of the run.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// When counting starts (the start plus `--warmup`).
    pub from: Instant,
    /// When sending stops (`from` plus `--duration`), if the run is timed.
    pub until: Option<Instant>,
}

impl Window {
    /// A run starting at `start` with `pace`'s warm-up, lasting `duration` after it (if timed).
    pub fn new(start: Instant, pace: &Pace, duration: Option<Duration>) -> Self {
        let from = start + pace.warmup;
        Self {
            from,
            until: duration.map(|d| from + d),
        }
    }

    /// Whether an operation that was due (or sent, closed-loop) at `t` is counted.
    pub fn counts(&self, t: Instant) -> bool {
        t >= self.from
    }

    /// Whether an operation due at `t` is past the end: it is not sent.
    pub fn is_over(&self, t: Instant) -> bool {
        self.until.is_some_and(|end| t >= end)
    }
}

/// How far behind the schedule a run was, kept by every connection and merged at the end.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lag {
    /// The lateness of the last operation sent (its send time minus its due time).
    pub last: Duration,
    /// The most any operation was late.
    pub max: Duration,
}

impl Lag {
    /// Notes an operation due at `due` and sent at `sent`.
    pub fn note(&mut self, due: Instant, sent: Instant) {
        let late = sent.saturating_duration_since(due);
        self.last = late;
        self.max = self.max.max(late);
    }

    /// The worse of two connections' lags.
    pub fn merge(&mut self, other: Lag) {
        self.last = self.last.max(other.last);
        self.max = self.max.max(other.max);
    }
}

/// Whether a fixed-rate run held its schedule: the verdict the report prints and puts in JSON.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateCheck {
    /// `--rate`: operations per second asked for (`None`: closed-loop).
    pub target: Option<f64>,
    /// Operations counted per second of the counted window.
    pub achieved: f64,
    /// How late the last operations went out: a schedule falling ever further behind ends late.
    pub final_lag: Duration,
    /// `Some(true)` when the achieved rate is at least 99% of the target and the run did not end
    /// behind its schedule (by more than 100 ms or 1% of the window, whichever is more);
    /// `None` for a closed-loop run.
    pub held: Option<bool>,
}

/// The share of the target rate a run must reach to have held it.
pub const HELD_SHARE: f64 = 0.99;

impl RateCheck {
    /// The verdict for `ops` operations counted over `window` seconds, with `lag` the merged
    /// lag of every connection.
    pub fn new(target: Option<u64>, ops: u64, window: Duration, lag: Lag) -> Self {
        let secs = window.as_secs_f64();
        let achieved = if secs > 0.0 { ops as f64 / secs } else { 0.0 };
        let allowed = Duration::from_millis(100).max(window / 100);
        let held = target.map(|t| achieved >= t as f64 * HELD_SHARE && lag.last <= allowed);
        Self {
            target: target.map(|t| t as f64),
            achieved,
            final_lag: lag.last,
            held,
        }
    }

    /// The stderr line of a run that did not hold its schedule (`None` when it did, or when it
    /// was closed-loop): the run's figures are still printed, never passed off as the target.
    pub fn warning(&self) -> Option<String> {
        let target = self.target?;
        if self.held == Some(true) {
            return None;
        }
        let mut line = format!(
            "the rate was not held: {:.0} operations/s achieved of the {target:.0} asked for ({:.1}%)",
            self.achieved,
            100.0 * self.achieved / target
        );
        if self.final_lag > Duration::from_millis(100) {
            line.push_str(", and the run ended ");
            line.push_str(&crate::duration::duration(self.final_lag));
            line.push_str(" behind its schedule");
        }
        line.push_str(": the generator or the server cannot keep up; latencies above are for the rate achieved");
        Some(line)
    }

    /// The JSON fields every bench reports: `target_rate`, `achieved_rate`, `rate_held` (null
    /// for a closed-loop run) and `schedule_lag_ms`.
    pub fn json_fields(&self, object: &mut serde_json::Map<String, serde_json::Value>) {
        use serde_json::Value;
        object.insert(
            "target_rate".into(),
            self.target.map_or(Value::Null, |t| round(t, 1).into()),
        );
        object.insert("achieved_rate".into(), round(self.achieved, 1).into());
        object.insert(
            "rate_held".into(),
            self.held.map_or(Value::Null, Value::Bool),
        );
        object.insert(
            "schedule_lag_ms".into(),
            round(self.final_lag.as_secs_f64() * 1e3, 3).into(),
        );
    }
}

/// `x` to `places` decimals, for JSON that a person reads too.
pub(crate) fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_share_the_rate_evenly() {
        let start = Instant::now();
        let mut all: Vec<Duration> = (0..4)
            .flat_map(|k| {
                let mut s = Schedule::for_connection(start, 1000, k, 4);
                (0..5)
                    .map(move |_| s.next_due() - start)
                    .collect::<Vec<_>>()
            })
            .collect();
        all.sort();
        // 1000 per second in all: one every millisecond, whoever sends it.
        for (i, d) in all.iter().enumerate() {
            let want = Duration::from_millis(i as u64);
            assert!(d.abs_diff(want) < Duration::from_micros(1), "{i}: {d:?}");
        }
        let s = Schedule::for_connection(start, 1000, 0, 4);
        assert_eq!(s.interval(), Duration::from_millis(4));
    }

    #[test]
    fn bounds_are_usage_errors() {
        assert_eq!(
            Pace::new(Some(0), None).unwrap_err(),
            "--rate must be at least 1"
        );
        assert_eq!(
            Pace::new(Some(MAX_RATE + 1), None).unwrap_err(),
            "--rate must be at most 10000000"
        );
        assert_eq!(
            Pace::new(None, Some(Duration::from_secs(MAX_SECS + 1))).unwrap_err(),
            "--warmup must be at most 86400 seconds"
        );
        assert_eq!(
            duration(Duration::ZERO).unwrap_err(),
            "--duration must be more than 0"
        );
        assert!(duration(Duration::from_secs(MAX_SECS)).is_ok());
    }

    #[test]
    fn the_window_leaves_out_the_warmup() {
        let start = Instant::now();
        let pace = Pace::new(Some(10), Some(Duration::from_secs(1))).unwrap();
        let w = Window::new(start, &pace, Some(Duration::from_secs(2)));
        assert!(!w.counts(start + Duration::from_millis(999)));
        assert!(w.counts(start + Duration::from_secs(1)));
        assert!(!w.is_over(start + Duration::from_millis(2999)));
        assert!(w.is_over(start + Duration::from_secs(3)));
    }

    #[test]
    fn a_rate_is_held_at_99_percent_and_not_behind() {
        let window = Duration::from_secs(10);
        let on_time = Lag::default();
        let held = RateCheck::new(Some(1000), 9_950, window, on_time);
        assert_eq!(held.held, Some(true));
        assert_eq!(held.warning(), None);

        let short = RateCheck::new(Some(1000), 9_800, window, on_time);
        assert_eq!(short.held, Some(false));
        assert_eq!(
            short.warning().unwrap(),
            "the rate was not held: 980 operations/s achieved of the 1000 asked for (98.0%): the generator or the server cannot keep up; latencies above are for the rate achieved"
        );

        let late = Lag {
            last: Duration::from_millis(400),
            max: Duration::from_millis(400),
        };
        let behind = RateCheck::new(Some(1000), 10_000, window, late);
        assert_eq!(behind.held, Some(false));
        assert!(
            behind
                .warning()
                .unwrap()
                .contains("and the run ended 400.0 ms behind its schedule")
        );

        let closed = RateCheck::new(None, 10_000, window, late);
        assert_eq!((closed.held, closed.warning()), (None, None));
        let mut o = serde_json::Map::new();
        closed.json_fields(&mut o);
        assert_eq!(
            serde_json::Value::Object(o).to_string(),
            r#"{"achieved_rate":1000.0,"rate_held":null,"schedule_lag_ms":400.0,"target_rate":null}"#
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_tick_returns_at_once_with_its_due_time() {
        let start = Instant::now();
        let mut s = Schedule::for_connection(start, 10, 0, 1);
        assert_eq!(s.tick().await, start);
        tokio::time::advance(Duration::from_millis(350)).await;
        // Three operations are late: they go out at once, each with the time it was due.
        let before = Instant::now();
        for i in 1..=3 {
            assert_eq!(s.tick().await, start + Duration::from_millis(100 * i));
        }
        assert_eq!(Instant::now(), before);
        assert_eq!(s.tick().await, start + Duration::from_millis(400));
        assert_eq!(Instant::now(), start + Duration::from_millis(400));
    }
}
