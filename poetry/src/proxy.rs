//! The caching poetry proxy: serves the upstream server's poem, fetched once and kept.
//!
//! Better than the tutorial's proxy: clients that arrive while the first fetch is under way
//! share that one fetch instead of each starting their own; a failed fetch is not cached (the
//! next client tries again) and the clients that were waiting on it are closed without a poem.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use common::net::Ctx;

use crate::Error;
use crate::client;
use crate::reply::{self, peer_name};

/// The proxy's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The poetry server to fetch from.
    pub upstream: SocketAddr,
    /// Bounds the upstream connection and each wait for its bytes; also a client that takes
    /// nothing for this long is dropped.
    pub timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// After a shutdown request, how long connections in progress may take.
    pub grace: Duration,
    /// The largest upstream poem accepted, in bytes: a fetch that gets more fails (and holds no
    /// more than this in memory).
    pub max_poem_size: usize,
}

impl Config {
    /// Proxies `upstream` with a 10 s timeout, 10,000 connections, 5 s of grace, poems up to
    /// 16 MiB.
    pub fn new(upstream: SocketAddr) -> Self {
        Self {
            upstream,
            timeout: Duration::from_secs(10),
            max_connections: 10_000,
            grace: Duration::from_secs(5),
            max_poem_size: crate::limits::DEFAULT_MAX_POEM_SIZE,
        }
    }
}

/// What the proxy did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Client connections accepted.
    pub connections: u64,
    /// Poems delivered to clients.
    pub poems: u64,
    /// Clients closed without a poem (the fetch failed, or they stopped reading).
    pub failed: u64,
    /// Fetches started upstream.
    pub fetches: u64,
    /// Of those, the ones that failed.
    pub failed_fetches: u64,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "poetry-proxy: served {} poem(s) to {} connection(s), {} without a poem; fetched upstream {} time(s), {} failed",
            self.poems, self.connections, self.failed, self.fetches, self.failed_fetches
        )
    }
}

#[derive(Default)]
struct Counters {
    poems: AtomicU64,
    failed: AtomicU64,
    fetches: AtomicU64,
    failed_fetches: AtomicU64,
}

type Fetch = Shared<BoxFuture<'static, Option<Bytes>>>;

enum State {
    Empty,
    Fetching(Fetch),
    Cached(Bytes),
}

struct Cache {
    config: Config,
    state: Mutex<State>,
    counters: Counters,
}

impl Cache {
    /// The poem: from the cache, from the fetch under way, or from a new fetch. `None` when the
    /// fetch failed.
    async fn poem(
        self: &Arc<Self>,
        tracker: &TaskTracker,
        abort: &CancellationToken,
    ) -> Option<Bytes> {
        let fetch = {
            let mut state = self.state.lock().expect("the cache lock is never poisoned");
            match &*state {
                State::Cached(poem) => return Some(poem.clone()),
                State::Fetching(fetch) => fetch.clone(),
                State::Empty => {
                    let fetch = self.start_fetch(tracker, abort);
                    *state = State::Fetching(fetch.clone());
                    fetch
                }
            }
        };
        fetch.await
    }

    /// Starts the fetch on its own task (it finishes even if the client that started it goes),
    /// which updates the state when it is done. Called with the state locked.
    fn start_fetch(self: &Arc<Self>, tracker: &TaskTracker, abort: &CancellationToken) -> Fetch {
        let (this, abort) = (self.clone(), abort.clone());
        this.counters.fetches.fetch_add(1, Relaxed);
        let upstream = this.config.upstream;
        tracing::info!("fetching the poem from {upstream}");
        let task = tracker.spawn(async move {
            let fetched = tokio::select! {
                biased;
                () = abort.cancelled() => None,
                r = client::get_poem(upstream, this.config.timeout, this.config.max_poem_size, |_| {}) => match r {
                    Ok(poem) => Some(poem),
                    Err(e) => {
                        tracing::warn!("cannot fetch the poem from {upstream}: {e}");
                        None
                    }
                },
            };
            let mut state = this.state.lock().expect("the cache lock is never poisoned");
            if let Some(poem) = &fetched {
                tracing::info!("cached {} bytes from {upstream}", poem.len());
                *state = State::Cached(poem.clone());
            } else {
                this.counters.failed_fetches.fetch_add(1, Relaxed);
                *state = State::Empty;
            }
            fetched
        });
        task.map(|joined| joined.ok().flatten()).boxed().shared()
    }
}

/// Proxies `config.upstream` on `listener` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> Result<Stats, Error> {
    let (max_connections, grace) = (config.max_connections, config.grace);
    let cache = Arc::new(Cache {
        config,
        state: Mutex::new(State::Empty),
        counters: Counters::default(),
    });
    let on_accept = |stream: std::net::TcpStream, permit, ctx: &Ctx| {
        let (cache, tracker, abort) = (cache.clone(), ctx.tracker.clone(), ctx.abort.clone());
        ctx.tracker.spawn(async move {
            let served = serve_one(stream, &cache, &tracker, &abort).await;
            let counter = if served {
                &cache.counters.poems
            } else {
                &cache.counters.failed
            };
            counter.fetch_add(1, Relaxed);
            drop(permit);
        });
    };
    let served = common::net::serve(listener, max_connections, grace, shutdown, on_accept)
        .await
        .map_err(Error::Listener)?;
    let c = &cache.counters;
    Ok(Stats {
        connections: served.accepted,
        poems: c.poems.load(Relaxed),
        failed: c.failed.load(Relaxed),
        fetches: c.fetches.load(Relaxed),
        failed_fetches: c.failed_fetches.load(Relaxed),
    })
}

async fn serve_one(
    stream: std::net::TcpStream,
    cache: &Arc<Cache>,
    tracker: &TaskTracker,
    abort: &CancellationToken,
) -> bool {
    let Ok(mut stream) = TcpStream::from_std(stream) else {
        return false;
    };
    let Some(poem) = cache.poem(tracker, abort).await else {
        // Closed without a poem: the client sees an empty download, a failure.
        tracing::debug!("closing {} without a poem", peer_name(stream.peer_addr()));
        return false;
    };
    match reply::write_all(&mut stream, &poem, cache.config.timeout, abort).await {
        Ok(()) => true,
        Err(cut) => {
            tracing::debug!("cut {} short: {cut}", peer_name(stream.peer_addr()));
            reply::reset(stream);
            false
        }
    }
}
