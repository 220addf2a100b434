//! Durations in words, the one way every tool prints one: `0.04 ms`, `0.4 ms`, `12.3 ms`,
//! `1.5 s`, `2 min 5 s` ([`duration`], or [`Short`] in a format string).

use std::time::Duration;

/// A duration in short human words, with one decimal where it helps.
pub fn duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 0.000_1 {
        format!("{:.2} ms", secs * 1e3)
    } else if secs < 1.0 {
        format!("{:.1} ms", secs * 1e3)
    } else if secs < 120.0 {
        format!("{secs:.1} s")
    } else {
        let whole = d.as_secs();
        format!("{} min {} s", whole / 60, whole % 60)
    }
}

/// A [`Display`](std::fmt::Display) wrapper around [`duration`], for format strings.
#[derive(Debug, Clone, Copy)]
pub struct Short(pub Duration);

impl std::fmt::Display for Short {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&duration(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(duration(Duration::from_micros(42)), "0.04 ms");
        assert_eq!(duration(Duration::from_micros(400)), "0.4 ms");
        assert_eq!(duration(Duration::from_micros(1_234)), "1.2 ms");
        assert_eq!(duration(Duration::from_millis(999)), "999.0 ms");
        assert_eq!(duration(Duration::from_millis(1_500)), "1.5 s");
        assert_eq!(duration(Duration::from_secs(30)), "30.0 s");
        assert_eq!(duration(Duration::from_secs(125)), "2 min 5 s");
        assert_eq!(Short(Duration::from_secs(2)).to_string(), "2.0 s");
    }
}
