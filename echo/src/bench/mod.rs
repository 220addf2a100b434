//! The load generator: ping-pong on many connections at once, closed-loop or at a fixed rate.
//!
//! Each connection sends a message of `size` bytes, waits until exactly that message has come
//! back (every byte is compared), records the round trip in HDR histograms, and sends the next
//! one, for `duration`: at once (closed-loop), or when it is due with `--rate` (open loop,
//! [`common::schedule`]: the latency is then measured from the due time too, so a stall of the
//! server shows as the users of a real service would see it). Every message differs from the one before (it starts with its sequence
//! number) and from those of the other connections (the rest is random per connection), so a
//! server that mixes up connections or replays an old message is caught.

mod connection;
mod report;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::latency::Latency;
use common::progress::Live;
use common::schedule::{Lag, Pace, RateCheck, Schedule, Window};

use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout_at};

use common::shutdown::Signal;

use crate::Error;
use connection::{Pacing, Recorder, ping_pong};
pub use report::{Percentiles, Report};

/// How long after the end a connection may take to get its last echo back.
const LAST_ECHO_GRACE: Duration = Duration::from_secs(2);

/// How long all the connections may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most connections one run opens (`--connections`): far beyond what one machine's ports
/// and descriptors allow, and small enough that the bookkeeping for them is a few MB.
pub const MAX_CONNECTIONS: usize = 100_000;

/// The largest message (`--size`): 16 MiB.
pub const MAX_SIZE: usize = 16 * 1024 * 1024;

/// The most message bytes in flight at once (`--connections` x `--size`): 256 MiB. Each
/// connection holds its message and a read buffer of the same size, so a run's buffers take
/// twice this at most.
pub const MAX_IN_FLIGHT: usize = 256 * 1024 * 1024;

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The echo server.
    pub addr: SocketAddr,
    /// Connections, each with one message in flight.
    pub connections: usize,
    /// Bytes per message.
    pub size: usize,
    /// How long to send for and count (connecting and the warm-up are not counted).
    pub duration: Duration,
    /// Closed-loop or `--rate`, and `--warmup`.
    pub pace: Pace,
}

impl Config {
    /// Refuses settings that cannot run (a usage error, exit 2).
    pub fn check(&self) -> Result<(), Error> {
        if !(1..=MAX_CONNECTIONS).contains(&self.connections) {
            return Err(Error::usage(format!(
                "--connections must be between 1 and {MAX_CONNECTIONS}"
            )));
        }
        if !(1..=MAX_SIZE).contains(&self.size) {
            return Err(Error::usage(format!(
                "--size must be between 1 and {MAX_SIZE} bytes"
            )));
        }
        let in_flight = self.connections * self.size;
        if in_flight > MAX_IN_FLIGHT {
            return Err(Error::usage(format!(
                "--connections x --size must be at most {MAX_IN_FLIGHT} bytes, not {in_flight}"
            )));
        }
        if self.duration.is_zero() {
            return Err(Error::usage("--duration must be more than 0"));
        }
        Ok(())
    }
}

/// Opens the connections, runs the ping-pong for the warm-up and `config.duration`, and
/// reports. `live` counts messages and their latencies as they complete (in batches), for the
/// live line.
///
/// `stop` (SIGINT or SIGTERM, from [`common::shutdown::install`]) ends the run early: while
/// connecting, with an [`Error::Interrupted`] saying how many connections were open; once
/// running, every connection stops at once and the report covers the echoes completed until
/// then ([`Report::interrupted`] is set, [`Report::seconds`] is the time actually run).
///
/// Nothing waits without a bound: connecting takes 10 s at most, and a connection still
/// waiting for its echo 2 s after the end is counted as an error and dropped.
pub async fn run(
    config: &Config,
    live: Option<Arc<Live>>,
    stop: impl Future<Output = Signal>,
) -> Result<Report, Error> {
    config.check()?;
    let addr = config.addr;
    let mut stop = std::pin::pin!(stop);
    let mut streams = Vec::with_capacity(config.connections);
    if let Err(signal) = crate::or_signal(connect_all(config, &mut streams), stop.as_mut()).await {
        return Err(Error::interrupted(
            signal,
            format!(
                "{} of {} connections to {addr} were open",
                streams.len(),
                config.connections
            ),
        ));
    }
    let streams = streams.into_iter().collect::<Result<Vec<_>, _>>()?;

    let recorder = Recorder {
        shared: Arc::new(Mutex::new(Latency::new())),
        live,
    };
    let start = Instant::now();
    let window = Window::new(start, &config.pace, Some(config.duration));
    let stop_at = window.until.unwrap_or(start + config.duration);
    let mut tasks = JoinSet::new();
    let n = streams.len();
    for (id, stream) in streams.into_iter().enumerate() {
        let pacing = Pacing {
            schedule: config
                .pace
                .rate
                .map(|rate| Schedule::for_connection(start, rate, id, n)),
            window,
        };
        tasks.spawn(ping_pong(
            stream,
            id as u64,
            config.size,
            pacing,
            recorder.clone(),
        ));
    }

    let mut errors = 0;
    let mut first_error = None;
    let mut interrupted = None;
    let mut lag = Lag::default();
    let give_up = stop_at + LAST_ECHO_GRACE;
    loop {
        let joined = tokio::select! {
            joined = timeout_at(give_up, tasks.join_next()) => joined,
            signal = stop.as_mut() => {
                interrupted = Some(signal);
                // Each connection's batch is flushed as its task is dropped.
                tasks.shutdown().await;
                break;
            }
        };
        match joined {
            Ok(None) => break,
            Ok(Some(joined)) => {
                let (error, conn_lag) = joined.expect("a ping-pong task does not panic");
                lag.merge(conn_lag);
                if let Some(e) = error {
                    errors += 1;
                    first_error.get_or_insert(e);
                }
            }
            Err(_) => {
                let stuck = tasks.len() as u64;
                tasks.shutdown().await;
                errors += stuck;
                first_error.get_or_insert(format!(
                    "{stuck} connection(s) got no echo within {} of the end",
                    common::duration::duration(LAST_ECHO_GRACE)
                ));
                break;
            }
        }
    }
    // The counted time: from the end of the warm-up to the end (or to the signal).
    let counted = if interrupted.is_some() {
        Instant::now()
            .min(stop_at)
            .saturating_duration_since(window.from)
            .max(Duration::from_micros(1))
    } else {
        config.duration
    };
    let latency = recorder
        .shared
        .lock()
        .expect("no panic while recording")
        .clone();
    let seconds = counted.as_secs_f64();
    let messages = latency.count();
    let summary = latency.summary();
    let us = |ms: f64| ms * 1e3;
    let s = summary.service;
    Ok(Report {
        addr,
        connections: config.connections,
        size: config.size,
        seconds,
        messages,
        messages_per_sec: messages as f64 / seconds,
        mb_per_sec: (messages * config.size as u64) as f64 / seconds / 1e6,
        latency_us: Percentiles {
            p50: us(s.p50),
            p90: us(s.p90),
            p99: us(s.p99),
            p999: us(s.p99_9),
            max: us(s.max),
        },
        latency: summary,
        rate: RateCheck::new(config.pace.rate, messages, counted, lag),
        errors,
        first_error,
        interrupted,
    })
}

/// Opens `config.connections` connections at once, all within [`CONNECT_TIMEOUT`], into
/// `streams` (one result each, as they come: the count so far is what an interruption reports).
async fn connect_all(config: &Config, streams: &mut Vec<Result<TcpStream, Error>>) {
    let addr = config.addr;
    let connect_deadline = Instant::now() + CONNECT_TIMEOUT;
    let mut connecting = JoinSet::new();
    for _ in 0..config.connections {
        connecting.spawn(timeout_at(connect_deadline, TcpStream::connect(addr)));
    }
    while let Some(r) = connecting.join_next().await {
        let stream = match r.expect("a connect task does not panic") {
            Ok(Ok(s)) => s,
            Ok(Err(cause)) => {
                streams.push(Err(Error::Connect { addr, cause }));
                return;
            }
            Err(_) => {
                streams.push(Err(Error::Connect {
                    addr,
                    cause: std::io::Error::other(format!(
                        "connections not all established within {}",
                        common::duration::duration(CONNECT_TIMEOUT)
                    )),
                }));
                return;
            }
        };
        let _ = stream.set_nodelay(true);
        streams.push(Ok(stream));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_usage_errors() {
        let ok = Config {
            addr: "127.0.0.1:1".parse().unwrap(),
            connections: 1,
            size: 1,
            duration: Duration::from_secs(1),
            pace: Pace::CLOSED,
        };
        assert!(ok.check().is_ok());
        for bad in [
            Config {
                connections: 0,
                ..ok.clone()
            },
            Config {
                size: 0,
                ..ok.clone()
            },
            Config {
                duration: Duration::ZERO,
                ..ok.clone()
            },
            Config {
                connections: MAX_CONNECTIONS + 1,
                ..ok.clone()
            },
            Config {
                size: MAX_SIZE + 1,
                ..ok.clone()
            },
            Config {
                connections: 17,
                size: MAX_SIZE,
                ..ok.clone()
            },
        ] {
            assert!(matches!(bad.check(), Err(Error::Usage(_))));
        }
        // Each bound itself is accepted.
        for good in [
            Config {
                connections: MAX_CONNECTIONS,
                size: MAX_IN_FLIGHT / MAX_CONNECTIONS,
                ..ok.clone()
            },
            Config {
                connections: 16,
                size: MAX_SIZE,
                ..ok.clone()
            },
        ] {
            assert!(good.check().is_ok(), "{good:?}");
        }
    }
}
