//! The raw RESP client of a run against one server: `-c` connections on one thread, each
//! writing `-P` pre-encoded commands in one write and reading back exactly as many replies with
//! the strict parser of [`crate::resp`]. No redis-crate machinery per command (the hot path:
//! see docs/redis.md, "bench").

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use crate::stream::{Stream, describe_tls_io};
use common::duration::duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::reconnect::{Dialer, Handshake};
use super::tally::Shared;
use super::{OneTest, Test, TestReport};
use crate::error::Error;
use crate::resp::{self, Kind};

pub(super) async fn run_raw(one: OneTest<'_>) -> Result<TestReport, Error> {
    let (redis, o, keys, test, stop) = (one.redis, one.o, one.keys, one.test, one.stop);
    let dialer = Rc::new(Dialer {
        url: redis.url().to_owned(),
        addr: redis.addr()?,
        hs: Handshake::new(redis),
        timeout: redis.timeout(),
        retry_for: o.retry_for,
        tls: redis.tls_connector()?,
    });
    let value = vec![b'x'; o.data_size];
    let shared = Rc::new(Shared::new(o, stop.clone()));

    // Connect every client first (as redis-benchmark does), then start the clock.
    let mut streams = Vec::with_capacity(o.clients);
    for _ in 0..o.clients {
        if stop.get() {
            break;
        }
        let s = dialer.open().await.map_err(|reason| Error::Connect {
            url: redis.url().to_owned(),
            reason,
        })?;
        streams.push(s);
    }
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(o.clients);
    for (n, stream) in streams.into_iter().enumerate() {
        let args = test.args(&keys.key(test, n), &value);
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let mut one = Vec::new();
        resp::encode(&mut one, &refs);
        let batch: Vec<u8> = one.repeat(o.pipeline);
        let client = RawClient {
            dialer: dialer.clone(),
            one_len: one.len(),
            batch,
            test,
            shared: shared.clone(),
        };
        tasks.push(tokio::task::spawn_local(client.run(stream)));
    }
    for t in tasks {
        t.await.map_err(|e| Error::Command {
            command: "bench (task)".into(),
            reason: e.to_string(),
        })?;
    }
    let elapsed = started.elapsed();
    if shared.ok.get() > 0 {
        keys.wrote();
    }
    if let Some(e) = shared.fatal.borrow_mut().take() {
        return Err(e);
    }
    let mut report = shared.report(test, elapsed);
    report.unsent += shared.remaining.get();
    Ok(report)
}

/// One connection of a raw run.
struct RawClient {
    dialer: Rc<Dialer>,
    one_len: usize,
    batch: Vec<u8>,
    test: Test,
    shared: Rc<Shared>,
}

/// Why a batch did not complete.
enum Broken {
    /// The connection: reconnect and go on.
    Io(String),
    /// The server is not speaking RESP, or answered something the command cannot answer.
    Fatal(Error),
}

impl RawClient {
    async fn run(self, first: Stream) {
        let mut stream = Some(first);
        let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
        // When this connection's current outage began: `retry_for` counts from there, however
        // many reconnects succeed and break again without a reply (a peer that closes).
        let mut down_since: Option<Instant> = None;
        loop {
            let k = self.shared.claim();
            if k == 0 {
                return;
            }
            let mut s = if let Some(s) = stream.take() {
                s
            } else if let Some(s) = self
                .dialer
                .reconnect(&self.shared, down_since.unwrap_or_else(Instant::now))
                .await
            {
                s
            } else {
                self.shared.unsent.set(self.shared.unsent.get() + k);
                return;
            };
            buf.clear();
            let answered = Cell::new(0u64);
            let started = Instant::now();
            let exchange = self.exchange(&mut s, k, &mut buf, &answered);
            let timeout = self.dialer.timeout;
            let outcome = match tokio::time::timeout(timeout, exchange).await {
                Ok(r) => r,
                Err(_) => Err(Broken::Io(format!("no reply within {}", duration(timeout)))),
            };
            match outcome {
                Ok(()) => {
                    let us = started.elapsed().as_micros().max(1) as u64;
                    let _ = self.shared.latency.borrow_mut().record_n(us, k);
                    stream = Some(s);
                    down_since = None;
                }
                Err(Broken::Io(why)) => {
                    if answered.get() > 0 {
                        down_since = None;
                    }
                    down_since.get_or_insert_with(Instant::now);
                    let lost = k - answered.get();
                    self.shared.fail(lost, || format!("connection lost: {why}"));
                    tracing::debug!(
                        "{}: connection lost ({why}); reconnecting",
                        self.test.name()
                    );
                }
                Err(Broken::Fatal(e)) => {
                    self.shared.fatal.borrow_mut().get_or_insert(e);
                    return;
                }
            }
        }
    }

    /// Writes `k` commands, reads `k` replies. `answered` counts the replies read so far (kept
    /// by the caller, so a timeout or a broken connection knows how many are lost).
    async fn exchange(
        &self,
        s: &mut Stream,
        k: u64,
        buf: &mut Vec<u8>,
        answered: &Cell<u64>,
    ) -> Result<(), Broken> {
        let bytes = &self.batch[..self.one_len * k as usize];
        s.write_all(bytes)
            .await
            .map_err(|e| Broken::Io(describe_tls_io(&e)))?;
        let mut at = 0;
        while answered.get() < k {
            if at == buf.len() {
                buf.clear();
                at = 0;
            } else if at > 0 && buf.capacity() - buf.len() < 4096 {
                buf.drain(..at);
                at = 0;
            }
            if buf.capacity() - buf.len() < 4096 {
                buf.reserve(64 * 1024);
            }
            let n = s
                .read_buf(buf)
                .await
                .map_err(|e| Broken::Io(describe_tls_io(&e)))?;
            if n == 0 {
                return Err(Broken::Io("the server closed the connection".into()));
            }
            loop {
                let parsed = resp::parse(&buf[at..]).map_err(|e| {
                    Broken::Fatal(Error::Command {
                        command: self.test.name().to_ascii_uppercase(),
                        reason: format!("the reply is not RESP (is this a Redis server?): {e}"),
                    })
                })?;
                let Some(r) = parsed else { break };
                let reply = &buf[at..at + r.len];
                if self.test.accepts(r.kind, reply) {
                    self.shared.ok.set(self.shared.ok.get() + 1);
                } else if r.kind == Kind::Error {
                    let text = resp::line_text(reply);
                    self.shared.fail(1, || text);
                } else {
                    return Err(Broken::Fatal(Error::Command {
                        command: self.test.name().to_ascii_uppercase(),
                        reason: format!(
                            "unexpected reply {:?}",
                            String::from_utf8_lossy(&reply[..reply.len().min(60)])
                        ),
                    }));
                }
                at += r.len;
                answered.set(answered.get() + 1);
                if answered.get() > k {
                    return Err(Broken::Fatal(Error::Command {
                        command: self.test.name().to_ascii_uppercase(),
                        reason: "more replies than commands".into(),
                    }));
                }
            }
        }
        Ok(())
    }
}
