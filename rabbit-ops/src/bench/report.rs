//! What a run measured, as lines or one JSON object: the figures the bench always printed
//! ([`Report`]: publish and consume rates, p50/p99, lost), and beside them the rate asked for
//! and achieved and both latencies ([`Measured`]).

use std::fmt::Write as _;

use common::duration::Short;
use common::latency::Summary;
use common::schedule::RateCheck;

use super::{Config, Length};

/// The figures every run prints, under the names scripts read.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Report {
    /// Messages per second published (confirmed, with confirms).
    pub publish_per_s: f64,
    /// Messages per second received, from the first publish to the last delivery.
    pub consume_per_s: f64,
    /// Median latency, publish to delivery (service time), in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency (service time) in milliseconds.
    pub p99_ms: f64,
    /// Sequence numbers never received.
    pub lost: u64,
    /// Deliveries of a sequence number already received.
    pub duplicates: u64,
}

impl Report {
    /// The five fields of the `--json` object that scripts read.
    pub fn json(&self) -> String {
        format!(
            "{{\"publish_per_s\":{:.0},\"consume_per_s\":{:.0},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\
             \"lost\":{}}}",
            self.publish_per_s, self.consume_per_s, self.p50_ms, self.p99_ms, self.lost
        )
    }
}

/// Everything a run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// The figures the bench always printed.
    pub report: Report,
    /// Messages published in all, warm-up included.
    pub published: u64,
    /// Messages counted: due after the warm-up, and delivered.
    pub messages: u64,
    /// The counted time, in seconds: `--duration` (or `--messages` / `--rate`) at a fixed
    /// rate; closed-loop, from the end of the warm-up to the last delivery.
    pub seconds: f64,
    /// Both latencies of the counted messages: from the time each was due (corrected) and from
    /// its publish (service time) to its delivery.
    pub latency: Summary,
    /// The rate asked for, the rate achieved, and whether it was held.
    pub rate: RateCheck,
    /// A closed-loop `--duration` run stopped at the most messages a run counts.
    pub capped: bool,
}

impl Measured {
    /// The `--json` object: the five fields of [`Report::json`], then `duplicates`, `published`,
    /// `messages`, `seconds`, `latency_ms.corrected` / `latency_ms.service` and the rate's fields
    /// ([`RateCheck::json_fields`]).
    pub fn json(&self) -> String {
        let mut extra = serde_json::Map::new();
        extra.insert("duplicates".into(), self.report.duplicates.into());
        extra.insert("published".into(), self.published.into());
        extra.insert("messages".into(), self.messages.into());
        extra.insert(
            "seconds".into(),
            ((self.seconds * 1e3).round() / 1e3).into(),
        );
        extra.insert("latency_ms".into(), self.latency.json());
        self.rate.json_fields(&mut extra);
        let extra = serde_json::Value::Object(extra).to_string();
        let head = self.report.json();
        format!(
            "{},{}",
            head.strip_suffix('}').unwrap_or(&head),
            extra.strip_prefix('{').unwrap_or(&extra)
        )
    }

    /// The report as lines: those the bench always printed, and at a fixed rate the rate
    /// achieved and both latencies.
    pub fn text(&self, config: &Config) -> String {
        let r = &self.report;
        let mut s = header(config);
        let _ = write!(s, "\npublish: {:.0} msg/s", r.publish_per_s);
        let _ = write!(s, "\nconsume: {:.0} msg/s", r.consume_per_s);
        if let Some(target) = self.rate.target {
            let _ = write!(
                s,
                "\nrate: {:.0} of {target:.0} msg/s asked for: {}",
                self.rate.achieved,
                if self.rate.held == Some(true) {
                    "held"
                } else {
                    "NOT held"
                }
            );
        }
        let _ = write!(
            s,
            "\nlatency: p50 {:.3} ms, p99 {:.3} ms",
            r.p50_ms, r.p99_ms
        );
        if self.rate.target.is_some() {
            let _ = write!(s, "\n{}", self.latency.lines());
        }
        let _ = write!(s, "\nlost: {}, duplicates: {}", r.lost, r.duplicates);
        s
    }

    /// The stderr line of a closed-loop `--duration` run that stopped at the most messages a
    /// run counts (`None` otherwise).
    pub fn capped_warning(&self, most: u64) -> Option<String> {
        self.capped.then(|| {
            format!(
                "the producers stopped at {most} messages, the most a run counts, before \
                 --duration was over: the figures are for the {:.1} s they took",
                self.seconds
            )
        })
    }
}

/// The first line: `bench: 100000 messages of 100 bytes, 1 producer(s), ...`; what a timed
/// run, a fixed rate or a warm-up changes is said in it.
fn header(config: &Config) -> String {
    let mut s = match config.length {
        Length::Messages(n) => format!("bench: {n} messages of {} bytes", config.size),
        Length::Duration(d) => format!("bench: {} of {}-byte messages", Short(d), config.size),
    };
    if let Some(rate) = config.pace.rate {
        let _ = write!(s, " at {rate} msg/s");
    }
    if !config.pace.warmup.is_zero() {
        let _ = write!(s, " after a {} warm-up", Short(config.pace.warmup));
    }
    let _ = write!(
        s,
        ", {} producer(s), {} consumer(s), prefetch {}, {}, {}",
        config.producers,
        config.consumers,
        config.prefetch,
        if config.quorum {
            "quorum queue"
        } else if config.persistent {
            "persistent"
        } else {
            "transient"
        },
        if config.confirm {
            "confirms"
        } else {
            "no confirms"
        }
    );
    s
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use common::latency::Latency;
    use common::schedule::{Lag, Pace};

    use super::*;

    #[test]
    fn json_has_the_five_fields() {
        let r = Report {
            publish_per_s: 1234.4,
            consume_per_s: 999.6,
            p50_ms: 1.5,
            p99_ms: 12.25,
            lost: 0,
            duplicates: 0,
        };
        assert_eq!(
            r.json(),
            "{\"publish_per_s\":1234,\"consume_per_s\":1000,\"p50_ms\":1.500,\"p99_ms\":12.250,\
             \"lost\":0}"
        );
    }

    fn config() -> Config {
        Config {
            length: Length::Messages(1000),
            size: 100,
            producers: 1,
            consumers: 2,
            persistent: false,
            confirm: true,
            prefetch: 500,
            pace: Pace::CLOSED,
            json: false,
            progress: false,
            quorum: false,
        }
    }

    fn measured(target: Option<u64>) -> Measured {
        let mut latency = Latency::new();
        latency.record_micros(2500, 700);
        Measured {
            report: Report {
                publish_per_s: 1000.2,
                consume_per_s: 999.8,
                p50_ms: 0.7,
                p99_ms: 0.7,
                lost: 0,
                duplicates: 1,
            },
            published: 1001,
            messages: 1000,
            seconds: 1.0,
            latency: latency.summary(),
            rate: RateCheck::new(target, 1000, Duration::from_secs(1), Lag::default()),
            capped: false,
        }
    }

    #[test]
    fn the_json_object_keeps_the_five_fields_first() {
        let m = measured(Some(1000));
        assert_eq!(
            m.json(),
            "{\"publish_per_s\":1000,\"consume_per_s\":1000,\"p50_ms\":0.700,\"p99_ms\":0.700,\
             \"lost\":0,\"achieved_rate\":1000.0,\"duplicates\":1,\"latency_ms\":{\"corrected\":\
             {\"max\":2.501,\"p50\":2.501,\"p90\":2.501,\"p99\":2.501,\"p99_9\":2.501,\"p99_99\":\
             2.501},\"service\":{\"max\":0.7,\"p50\":0.7,\"p90\":0.7,\"p99\":0.7,\"p99_9\":0.7,\
             \"p99_99\":0.7}},\"messages\":1000,\"published\":1001,\"rate_held\":true,\"schedule_lag_ms\":0.0,\
             \"seconds\":1.0,\"target_rate\":1000.0}"
        );
        let v: serde_json::Value = serde_json::from_str(&measured(None).json()).unwrap();
        assert_eq!(
            (&v["target_rate"], &v["rate_held"]),
            (&serde_json::Value::Null, &serde_json::Value::Null)
        );
    }

    #[test]
    fn lines_closed_loop_as_always_and_at_a_rate() {
        assert_eq!(
            measured(None).text(&config()),
            "bench: 1000 messages of 100 bytes, 1 producer(s), 2 consumer(s), prefetch 500, \
             transient, confirms\n\
             publish: 1000 msg/s\n\
             consume: 1000 msg/s\n\
             latency: p50 0.700 ms, p99 0.700 ms\n\
             lost: 0, duplicates: 1"
        );
        let timed = Config {
            length: Length::Duration(Duration::from_secs(5)),
            pace: Pace::new(Some(1000), Some(Duration::from_secs(1))).unwrap(),
            ..config()
        };
        let text = measured(Some(1000)).text(&timed);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "bench: 5.0 s of 100-byte messages at 1000 msg/s after a 1.0 s warm-up, 1 \
             producer(s), 2 consumer(s), prefetch 500, transient, confirms"
        );
        assert_eq!(lines[3], "rate: 1000 of 1000 msg/s asked for: held");
        assert!(lines[5].starts_with("latency from the due time (corrected): p50 2.501 "));
        assert!(lines[6].starts_with("latency from the send (service):       p50 0.700 "));
        assert_eq!(lines.len(), 8);
    }

    #[test]
    fn a_capped_run_says_so() {
        let mut m = measured(None);
        assert_eq!(m.capped_warning(10), None);
        m.capped = true;
        assert_eq!(
            m.capped_warning(10).unwrap(),
            "the producers stopped at 10 messages, the most a run counts, before --duration \
             was over: the figures are for the 1.0 s they took"
        );
    }
}
