//! Readiness checks for CI (`redis-ops ping`, `rabbit-ops ping`, `echo-client --wait`,
//! `poetry-client --wait`): several targets checked at once, each tried again with the shared
//! [`crate::retry::Backoff`] until it passes or `--wait` runs out, one report line each.
//!
//! A tool supplies the check itself (one attempt against one target, answering [`Passed`] or a
//! [`Refusal`] that says whether waiting could help); this module does the rest: deadlines,
//! retries, concurrency, the lines and the JSON objects.
//!
//! An attempt in progress is never cancelled half-way (it would leave its key or queue behind):
//! a signal stops the waiting between attempts, and each attempt is bounded by its own timeout.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::duration::duration;
use crate::redact::redact_all;
use crate::retry::Backoff;

/// How to check.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    /// Keep trying until this much time has gone; `None`: one try.
    pub wait: Option<Duration>,
    /// The bound of one attempt (connect, every exchange, clean-up).
    pub timeout: Duration,
}

/// One attempt that passed.
#[derive(Debug, Clone)]
pub struct Passed {
    /// The server and its version, as it says (`Redis 7.0.15`).
    pub server: String,
    /// How long the data took to go there and back.
    pub round_trip: Duration,
}

/// One attempt that did not pass.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// Why, in a few words (`connection refused`, `wrong password`).
    pub reason: String,
    /// `true` when waiting may help (nothing listening yet, still loading, booting); `false`
    /// for a permanent answer (a wrong password, not the expected protocol).
    pub not_ready: bool,
}

impl Refusal {
    /// Waiting may help.
    pub fn not_ready(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            not_ready: true,
        }
    }

    /// A permanent answer: waiting will not help.
    pub fn failed(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            not_ready: false,
        }
    }

    /// A target that could not be reached, by the rule every readiness check keeps: when TLS
    /// refused it (`tls_refused`: a certificate that does not verify, a name that does not
    /// match, a refused client certificate, a server that does not speak TLS) waiting will not
    /// help, as for a refused password or the wrong scheme ([`Refusal::failed`]); nothing
    /// listening yet, a reset or a timeout may pass ([`Refusal::not_ready`]).
    pub fn unreached(reason: impl Into<String>, tls_refused: bool) -> Self {
        if tls_refused {
            Self::failed(reason)
        } else {
            Self::not_ready(reason)
        }
    }
}

/// What happened to one target in the end.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The target, password redacted.
    pub target: String,
    /// The last attempt's answer.
    pub result: Result<Passed, Refusal>,
    /// Attempts made.
    pub attempts: u32,
    /// Time from the start to the end of the last attempt.
    pub waited: Duration,
    /// `true` when a signal ended the waiting.
    pub interrupted: bool,
    /// `true` when the probe was allowed to wait.
    pub waiting: bool,
}

impl Outcome {
    /// Did the target pass?
    pub fn ok(&self) -> bool {
        self.result.is_ok()
    }

    /// The line for a person: `ok <target>: <server>, round trip 0.4 ms` (for stdout) or the
    /// error text without its `error: ` prefix (`<target> not ready after 30.0 s: connection
    /// refused`, `<target>: wrong password`), for [`crate::exit`]'s report.
    ///
    /// Every text in it is [`redact_all`]ed: a reason may quote a peer that echoed a secret.
    pub fn line(&self) -> String {
        redact_all(&self.text())
    }

    fn text(&self) -> String {
        match &self.result {
            Ok(p) => format!(
                "ok {}: {}, round trip {}",
                self.target,
                p.server,
                duration(p.round_trip)
            ),
            Err(r) if self.interrupted => {
                format!(
                    "{} not ready when interrupted after {:.1} s: {}",
                    self.target,
                    self.waited.as_secs_f64(),
                    r.reason
                )
            }
            Err(r) if self.waiting && r.not_ready => format!(
                "{} not ready after {:.1} s: {}",
                self.target,
                self.waited.as_secs_f64(),
                r.reason
            ),
            Err(r) => format!("{}: {}", self.target, r.reason),
        }
    }

    /// One JSON object: `{"target", "ok", "server", "round_trip_ms", "attempts", "waited_s",
    /// "error"}` (absent values are `null`).
    pub fn json(&self) -> String {
        let (server, rtt, error) = match &self.result {
            Ok(p) => (
                serde_json::Value::from(redact_all(&p.server)),
                serde_json::Value::from(round3(p.round_trip.as_secs_f64() * 1e3)),
                serde_json::Value::Null,
            ),
            Err(_) => (
                serde_json::Value::Null,
                serde_json::Value::Null,
                serde_json::Value::from(self.line()),
            ),
        };
        serde_json::json!({
            "target": self.target,
            "ok": self.ok(),
            "server": server,
            "round_trip_ms": rtt,
            "attempts": self.attempts,
            "waited_s": round3(self.waited.as_secs_f64()),
            "error": error,
        })
        .to_string()
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Checks every target at once with `check` and answers their outcomes in the targets' order.
/// `stop` (a signal) ends the waiting between attempts.
pub async fn check_all<C, F>(
    targets: &[String],
    probe: Probe,
    check: C,
    stop: impl Future,
) -> Vec<Outcome>
where
    C: Fn(String) -> F,
    F: Future<Output = Result<Passed, Refusal>>,
{
    let stop_token = tokio_util::sync::CancellationToken::new();
    let runs = targets
        .iter()
        .map(|t| check_one(t.clone(), probe, &check, stop_token.clone()));
    let all = futures_util::future::join_all(runs);
    tokio::pin!(all);
    let mut stop = std::pin::pin!(stop);
    tokio::select! {
        outcomes = &mut all => outcomes,
        _ = &mut stop => {
            stop_token.cancel();
            all.await
        }
    }
}

/// Prints the outcomes as every readiness check does: the `ok` lines (or, with `json`, every
/// JSON object) on `out`; an `error: <line>` on stderr for each target that did not pass but
/// the last, which is the answer (for [`crate::cli::finish`] to print): exit 1 if any did not
/// pass, 130 if a signal ended the waiting. A closed `out` hides no failure; otherwise it is
/// the answer (exit 0, quietly).
pub fn report(
    outcomes: &[Outcome],
    json: bool,
    out: &mut crate::output::Out<impl std::io::Write>,
) -> Result<(), crate::exit::Failure> {
    let printed = outcomes.iter().try_for_each(|o| {
        if json {
            out.line(format_args!("{}", o.json()))
        } else if o.ok() {
            out.line(format_args!("{}", o.line()))
        } else {
            Ok(())
        }
    });
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok()).collect();
    let Some((last, others)) = failed.split_last() else {
        return printed.map_err(Into::into);
    };
    for o in others {
        crate::exit::say(&format!("error: {}", o.line()));
    }
    Err(if outcomes.iter().any(|o| o.interrupted) {
        crate::exit::Failure::interrupted(last.line())
    } else {
        crate::exit::Failure::runtime(last.line())
    })
}

/// One target: attempts until it passes, a permanent refusal, the wait runs out, or `stop`.
async fn check_one<C, F>(
    target: String,
    probe: Probe,
    check: &C,
    stop: tokio_util::sync::CancellationToken,
) -> Outcome
where
    C: Fn(String) -> F,
    F: Future<Output = Result<Passed, Refusal>>,
{
    let start = Instant::now();
    let deadline = probe.wait.map(|w| start + w);
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
    let mut attempts = 0;
    let mut last: Option<Refusal> = None;
    let shown = redact_all(&target);
    loop {
        attempts += 1;
        // The attempt never runs past the end of the wait: the deadlines add up to `--wait`.
        let limit = match deadline {
            Some(d) => probe
                .timeout
                .min(d.saturating_duration_since(Instant::now()))
                .max(Duration::from_millis(50)),
            _ => probe.timeout,
        };
        let result = match tokio::time::timeout(limit, check(target.clone())).await {
            Ok(r) => r,
            // An attempt cut short by the end of the wait says less than the one before it.
            Err(_) if limit < probe.timeout && last.is_some() => Err(last.take().expect("checked")),
            Err(_) => Err(Refusal::not_ready(format!(
                "no answer within {}",
                duration(limit)
            ))),
        };
        last = result.as_ref().err().cloned();
        let give_up = match &result {
            Ok(_) => true,
            Err(r) => !r.not_ready,
        };
        let delay = match deadline {
            Some(d) if !give_up => backoff.next_delay_until(d),
            _ => None,
        };
        let outcome = |interrupted| Outcome {
            target: shown.clone(),
            result: result.clone(),
            attempts,
            waited: start.elapsed(),
            interrupted,
            waiting: probe.wait.is_some(),
        };
        let Some(delay) = delay else {
            return outcome(false);
        };
        tracing::debug!(
            "{shown}: attempt {attempts}: {}; again in {}",
            result.as_ref().err().map_or("", |r| r.reason.as_str()),
            duration(delay)
        );
        tokio::select! {
            () = stop.cancelled() => return outcome(true),
            () = tokio::time::sleep(delay) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn passed() -> Passed {
        Passed {
            server: "Demo 1.0".into(),
            round_trip: Duration::from_micros(400),
        }
    }

    fn outcome(target: &str, result: Result<Passed, Refusal>, interrupted: bool) -> Outcome {
        Outcome {
            target: target.into(),
            result,
            attempts: 1,
            waited: Duration::from_millis(100),
            interrupted,
            waiting: false,
        }
    }

    #[test]
    fn a_tls_refusal_is_permanent_a_refused_connection_is_not() {
        assert!(!Refusal::unreached("the server's certificate has expired", true).not_ready);
        assert!(Refusal::unreached("connection refused", false).not_ready);
    }

    #[test]
    fn report_prints_the_ok_lines_and_answers_the_last_failure() {
        let ok = outcome("a:1", Ok(passed()), false);
        let refused = outcome("b:2", Err(Refusal::failed("connection refused")), false);
        let mut out = crate::output::Out::new(Vec::new());
        report(std::slice::from_ref(&ok), false, &mut out).unwrap();
        report(&[ok.clone(), refused.clone()], true, &mut out).map_or_else(
            |f| {
                assert_eq!(f.code, crate::exit::FAILURE);
                assert_eq!(f.error.to_string(), "b:2: connection refused");
            },
            |()| panic!("a failed target is a failure"),
        );
        let printed = String::from_utf8(out.into_inner()).unwrap();
        let lines: Vec<&str> = printed.lines().collect();
        assert_eq!(lines[0], "ok a:1: Demo 1.0, round trip 0.4 ms");
        assert_eq!((lines.len(), lines[2]), (3, refused.json().as_str()));
        let stopped = outcome("c:3", Err(Refusal::not_ready("no answer")), true);
        let f = report(&[stopped], false, &mut crate::output::Out::new(Vec::new())).unwrap_err();
        assert_eq!(f.code, crate::exit::INTERRUPTED);
    }

    #[tokio::test]
    async fn passes_after_not_ready_attempts_and_reports() {
        let tries = AtomicU32::new(0);
        let probe = Probe {
            wait: Some(Duration::from_secs(5)),
            timeout: Duration::from_secs(1),
        };
        let out = check_all(
            &["redis://:pw@h:1/0".to_owned()],
            probe,
            |_| {
                let n = tries.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < 2 {
                        Err(Refusal::not_ready("connection refused"))
                    } else {
                        Ok(passed())
                    }
                }
            },
            std::future::pending::<()>(),
        )
        .await;
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].attempts, 3);
        assert_eq!(
            out[0].line(),
            "ok redis://:***@h:1/0: Demo 1.0, round trip 0.4 ms"
        );
        let json: serde_json::Value = serde_json::from_str(&out[0].json()).unwrap();
        assert_eq!(json["ok"], true);
        assert_eq!(json["round_trip_ms"], 0.4);
        assert_eq!(json["attempts"], 3);
        assert_eq!(json["error"], serde_json::Value::Null);
    }

    #[tokio::test]
    async fn a_permanent_refusal_stops_at_once_and_waiting_is_bounded() {
        let probe = Probe {
            wait: Some(Duration::from_millis(300)),
            timeout: Duration::from_millis(100),
        };
        let start = Instant::now();
        let out = check_all(
            &["a".to_owned(), "b".to_owned(), "c".to_owned()],
            probe,
            |t| async move {
                match t.as_str() {
                    "a" => Err(Refusal::failed("wrong password")),
                    "b" => Err(Refusal::not_ready("connection refused")),
                    _ => std::future::pending().await,
                }
            },
            std::future::pending::<()>(),
        )
        .await;
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(out[0].attempts, 1);
        assert_eq!(out[0].line(), "a: wrong password");
        assert!(out[1].attempts > 1);
        assert!(
            out[1]
                .line()
                .starts_with("b not ready after 0.3 s: connection refused")
                || out[1]
                    .line()
                    .starts_with("b not ready after 0.4 s: connection refused"),
            "{}",
            out[1].line()
        );
        assert!(
            out[2].line().starts_with("c not ready after 0.")
                && out[2].line().ends_with(": no answer within 100.0 ms"),
            "{}",
            out[2].line()
        );
        let json: serde_json::Value = serde_json::from_str(&out[0].json()).unwrap();
        assert_eq!(json["ok"], false);
        assert_eq!(json["error"], "a: wrong password");
    }

    #[tokio::test]
    async fn one_try_without_wait_and_a_signal_ends_waiting() {
        let probe = Probe {
            wait: None,
            timeout: Duration::from_secs(1),
        };
        let out = check_all(
            &["x".to_owned()],
            probe,
            |_| async { Err(Refusal::not_ready("connection refused")) },
            std::future::pending::<()>(),
        )
        .await;
        assert_eq!(out[0].attempts, 1);
        assert_eq!(out[0].line(), "x: connection refused");

        let probe = Probe {
            wait: Some(Duration::from_mins(1)),
            timeout: Duration::from_secs(1),
        };
        let start = Instant::now();
        let out = check_all(
            &["x".to_owned()],
            probe,
            |_| async { Err(Refusal::not_ready("connection refused")) },
            tokio::time::sleep(Duration::from_millis(200)),
        )
        .await;
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(out[0].interrupted);
        assert!(
            out[0].line().contains("not ready when interrupted"),
            "{}",
            out[0].line()
        );
    }
}
