//! The one reconnect backoff: delays that double from a first value up to a cap, with a little
//! jitter so that many clients cut off together do not come back together.

use std::time::Duration;

/// Delays between attempts: `first`, doubling, never above `max`, each shortened by up to 10%
/// at random (never below `first / 2`). [`Backoff::reset`] after a success.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    next: Duration,
    max: Duration,
    attempts: u32,
}

impl Default for Backoff {
    /// 100 ms doubling to 5 s: what the long-running commands use to reconnect.
    fn default() -> Self {
        Self::new(Self::FIRST, Self::MAX)
    }
}

impl Backoff {
    /// The default first delay.
    pub const FIRST: Duration = Duration::from_millis(100);
    /// The default longest delay.
    pub const MAX: Duration = Duration::from_secs(5);

    /// Delays from `first`, doubling up to `max` (`max` is at least `first`).
    pub fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            next: first,
            max: max.max(first),
            attempts: 0,
        }
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        self.attempts = self.attempts.saturating_add(1);
        jitter(d)
    }

    /// The delay before the next attempt, never past `deadline`: `None` when the deadline has
    /// passed (give up), else at most the time left.
    pub fn next_delay_until(&mut self, deadline: std::time::Instant) -> Option<Duration> {
        let left = deadline.checked_duration_since(std::time::Instant::now())?;
        if left.is_zero() {
            return None;
        }
        Some(self.next_delay().min(left))
    }

    /// How many delays were handed out since the start or the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Starts again from the first delay (after a success).
    pub fn reset(&mut self) {
        self.next = self.first;
        self.attempts = 0;
    }
}

/// Up to 10% off, from the clock's nanoseconds (no random generator needed for this).
fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.subsec_nanos());
    let off = d.mul_f64(f64::from(nanos % 100) / 1000.0);
    d.saturating_sub(off)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let delays: Vec<_> = (0..6).map(|_| b.next_delay()).collect();
        let bounds = [100, 200, 400, 800, 1000, 1000];
        for (d, ms) in delays.iter().zip(bounds) {
            let ms = Duration::from_millis(ms);
            assert!(*d <= ms && *d >= ms.mul_f64(0.9), "{d:?} vs {ms:?}");
        }
        assert_eq!(b.attempts(), 6);
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }

    #[test]
    fn never_past_the_deadline() {
        let mut b = Backoff::new(Duration::from_secs(10), Duration::from_secs(10));
        let deadline = std::time::Instant::now() + Duration::from_millis(50);
        assert!(b.next_delay_until(deadline).unwrap() <= Duration::from_millis(50));
        let past = std::time::Instant::now()
            .checked_sub(Duration::from_millis(1))
            .unwrap();
        assert_eq!(b.next_delay_until(past), None);
    }
}
