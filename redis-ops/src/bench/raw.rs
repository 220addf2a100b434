//! The raw RESP client of a run against one server: `-c` connections on one thread, each
//! a [`Link`] writing `-P` pre-encoded commands in one write and reading back exactly as many
//! replies where they lie in its buffer ([`Link::pipeline`], the strict parser of
//! [`crate::link::resp`]). No redis-crate machinery per command (the hot path: see
//! docs/redis.md, "bench").

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use tokio::time::Instant as Tick;

use common::duration::duration;

use super::reconnect::Dialer;
use super::tally::{Shared, Turn};
use super::{OneTest, Test, TestReport};
use crate::error::Error;
use crate::link::{self, Broke, Kind, Link};

pub(super) async fn run_raw(one: OneTest<'_>) -> Result<TestReport, Error> {
    let (redis, o, keys, test, stop) = (one.redis, one.o, one.keys, one.test, one.stop);
    let live = one.live;
    let dialer = Rc::new(Dialer {
        url: redis.url().clone(),
        to: redis.endpoint()?,
        timeout: redis.timeout(),
        retry_for: o.retry_for,
    });
    redis.check_scheme().await?;
    let value = vec![b'x'; o.data_size];

    // Connect every client first (as redis-benchmark does), then start the clock.
    let mut links = Vec::with_capacity(o.clients);
    for _ in 0..o.clients {
        if stop.get() {
            break;
        }
        let link = dialer.open().await.map_err(|reason| Error::Connect {
            url: redis.url().clone(),
            reason,
        })?;
        links.push(link);
    }
    let shared = Rc::new(Shared::new(o, stop.clone(), Tick::now(), live));
    let clients = links.len();
    let mut tasks = Vec::with_capacity(o.clients);
    for (n, link) in links.into_iter().enumerate() {
        let args = test.args(&keys.key(test, n), &value);
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let mut one = Vec::new();
        link::resp::encode(&mut one, &refs);
        let batch: Vec<u8> = one.repeat(o.pipeline);
        let client = RawClient {
            dialer: dialer.clone(),
            one_len: one.len(),
            batch,
            most: link::MAX_REPLY.max(o.data_size + 64),
            test,
            shared: shared.clone(),
        };
        let schedule = shared.schedule(n, clients);
        tasks.push(tokio::task::spawn_local(client.run(link, schedule)));
    }
    for t in tasks {
        t.await.map_err(|e| Error::Command {
            command: "bench (task)".into(),
            reason: e.to_string(),
        })?;
    }
    let end = Tick::now();
    if shared.ok.get() + shared.warm_ok.get() > 0 {
        keys.wrote();
    }
    if let Some(e) = shared.fatal.borrow_mut().take() {
        return Err(e);
    }
    Ok(shared.report(test, end))
}

/// One connection of a raw run.
struct RawClient {
    dialer: Rc<Dialer>,
    one_len: usize,
    batch: Vec<u8>,
    /// The longest reply taken: [`link::MAX_REPLY`], or a value of `-d` bytes and its header.
    most: usize,
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
    async fn run(self, first: Link, mut schedule: Option<common::schedule::Schedule>) {
        let mut link = Some(first);
        // When this connection's current outage began: `retry_for` counts from there, however
        // many reconnects succeed and break again without a reply (a peer that closes).
        let mut down_since: Option<Instant> = None;
        loop {
            let Some(turn) = self.shared.next(&mut schedule).await else {
                return;
            };
            let k = turn.k;
            let mut l = if let Some(l) = link.take() {
                l
            } else if let Some(l) = self
                .dialer
                .reconnect(&self.shared, down_since.unwrap_or_else(Instant::now))
                .await
            {
                l
            } else {
                self.shared.unsent.set(self.shared.unsent.get() + k);
                return;
            };
            let answered = Cell::new(0u64);
            let sent = Tick::now();
            self.shared.sending(&turn, sent);
            match self.exchange(&mut l, &turn, &answered).await {
                Ok(()) => {
                    self.shared.answered(&turn, k, sent, Tick::now());
                    link = Some(l);
                    down_since = None;
                }
                Err(Broken::Io(why)) => {
                    if answered.get() > 0 {
                        down_since = None;
                    }
                    down_since.get_or_insert_with(Instant::now);
                    let lost = k - answered.get();
                    if turn.counted {
                        self.shared.fail(lost, || format!("connection lost: {why}"));
                    }
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

    /// Writes `k` commands, reads `k` replies, within the timeout. `answered` counts the
    /// replies read so far (kept by the caller, so a timeout or a broken connection knows how
    /// many are lost).
    async fn exchange(
        &self,
        link: &mut Link,
        turn: &Turn,
        answered: &Cell<u64>,
    ) -> Result<(), Broken> {
        let k = turn.k;
        let timeout = self.dialer.timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let bytes = &self.batch[..self.one_len * k as usize];
        let fatal = |reason: String| {
            Broken::Fatal(Error::Command {
                command: self.test.name().to_ascii_uppercase(),
                reason,
            })
        };
        let each = |kind: Kind, reply: &[u8]| {
            if self.test.accepts(kind, reply) {
                self.shared.good(turn, 1);
            } else if kind == Kind::Error {
                if turn.counted {
                    let text = link::resp::line_text(reply);
                    self.shared.fail(1, || text);
                }
            } else {
                return Err(format!(
                    "unexpected reply {:?}",
                    String::from_utf8_lossy(&reply[..reply.len().min(60)])
                ));
            }
            answered.set(answered.get() + 1);
            Ok(())
        };
        match link.pipeline(bytes, k, self.most, deadline, each).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(unexpected)) => Err(fatal(unexpected)),
            Err(Broke::Silent) => Err(Broken::Io(format!("no reply within {}", duration(timeout)))),
            Err(broke @ (Broke::Io(_) | Broke::Closed)) => Err(Broken::Io(broke.to_string())),
            Err(Broke::NotResp(e)) => Err(fatal(format!(
                "the reply is not RESP (is this a Redis server?): {e}"
            ))),
            Err(broke) => Err(fatal(broke.to_string())),
        }
    }
}
