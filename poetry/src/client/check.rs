//! A download as a readiness check (`poetry-client --wait`, `--json`), run by
//! `common::probe::check_all`: the check passes when a whole poem arrives (a clean close after at
//! least one byte); the server is "poetry server, N bytes".
//!
//! Not ready yet (tried again while `--wait` has time left) is a download that never began a
//! poem: nothing listening, a close or a reset before any byte, no byte within `--timeout`. A
//! poem cut short (a reset or a silence after some bytes) is a failure: the server is there
//! and broken, and waiting will not mend it.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::probe::{Outcome, Passed, Probe, Refusal, check_all};
use tokio_util::sync::CancellationToken;

use super::fetch::{FetchError, get_poem};

/// Downloads as readiness checks ([`checked`]): each goes through `common::probe::check_all`,
/// which tries a server that is not ready again until `wait` has gone (or until the downloads
/// are stopped: what is not ready then stays a failure).
#[derive(Debug, Clone, Copy, Default)]
pub struct Checks {
    /// How long a download may keep trying a server that is not ready, from its start;
    /// `None`: one try.
    pub wait: Option<Duration>,
}

/// The bound `check_all` puts on one try. A download is bounded by `--timeout` for each wait
/// (for the connection, for the next bytes), not as a whole: a slow server may take minutes to
/// send a long poem, so the whole try is only bounded by this backstop.
const WHOLE_TRY: Duration = Duration::from_hours(24);

/// What one failed download says about the server.
pub fn refusal(e: &FetchError) -> Refusal {
    if e.got() == 0 {
        Refusal::not_ready(e.to_string())
    } else {
        Refusal::failed(e.to_string())
    }
}

/// The check's answer for one download.
pub fn verdict(fetched: &Result<Bytes, FetchError>, took: Duration) -> Result<Passed, Refusal> {
    match fetched {
        Ok(poem) => Ok(Passed {
            server: format!("poetry server, {} bytes", poem.len()),
            round_trip: took,
        }),
        Err(e) => Err(refusal(e)),
    }
}

/// Downloads from `addr` through `check_all` (each try bounded by `timeout` for each wait and
/// by `max_size` bytes), trying again while the server is not ready and `checks.wait` has time
/// left, until `stop`; answers the last try's download and the check's outcome. `on_bytes`
/// hears the running total of each try.
pub async fn checked(
    addr: SocketAddr,
    timeout: Duration,
    max_size: usize,
    checks: &Checks,
    stop: &CancellationToken,
    on_bytes: impl Fn(usize),
) -> (Result<Bytes, FetchError>, Outcome) {
    let last: Mutex<Option<Result<Bytes, FetchError>>> = Mutex::new(None);
    let probe = Probe {
        wait: checks.wait,
        timeout: WHOLE_TRY,
    };
    let (last_try, on_bytes) = (&last, &on_bytes);
    let try_once = move |_target: String| async move {
        let start = Instant::now();
        let fetched = get_poem(addr, timeout, max_size, on_bytes).await;
        let verdict = verdict(&fetched, start.elapsed());
        *last_try
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(fetched);
        verdict
    };
    let mut outcomes = check_all(
        &[addr.to_string()],
        probe,
        try_once,
        stop.clone().cancelled_owned(),
    )
    .await;
    let outcome = outcomes.pop().expect("one outcome per target");
    let fetched = last
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .unwrap_or(Err(FetchError::Empty));
    (fetched, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_received_is_not_ready_a_cut_poem_is_a_failure() {
        let refused = FetchError::Connect(std::io::ErrorKind::ConnectionRefused.into());
        let r = refusal(&refused);
        assert!(r.not_ready);
        assert_eq!(r.reason, "connection refused");
        assert!(refusal(&FetchError::Empty).not_ready);
        assert!(refusal(&FetchError::Reset { got: 0 }).not_ready);
        let silent = FetchError::TimedOut {
            timeout: Duration::from_secs(1),
            got: 0,
        };
        assert!(refusal(&silent).not_ready);
        let cut = refusal(&FetchError::Reset { got: 10 });
        assert!(!cut.not_ready);
        assert_eq!(
            cut.reason,
            "connection reset after 10 bytes: the poem is incomplete"
        );
        let passed = verdict(&Ok(Bytes::from_static(b"poem")), Duration::from_millis(2)).unwrap();
        assert_eq!(passed.server, "poetry server, 4 bytes");
    }
}
