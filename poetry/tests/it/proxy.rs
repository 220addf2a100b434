//! poetry-proxy: the poem fetched once and cached, one fetch shared by the clients that arrive
//! while it is under way, failures not cached.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use poetry::client::{FetchError, get_poem};
use poetry::proxy::Config;
use test_support::{Signal, refused_addr};
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::support::{Background, MAX_POEM, PROXY, poem, poetry_server, proxy_server, run_bin};

const T: Duration = Duration::from_secs(10);

/// An upstream poetry server that counts its connections. Each waits for the gate to open,
/// then the `n`th (from 1) gets `behave(n)`: the poem or a reset.
struct Upstream {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    gate: watch::Sender<bool>,
}

impl Upstream {
    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Waits until the upstream has had `n` connections.
    async fn until_connections(&self, n: usize) {
        while self.connections() < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn open(&self) {
        self.gate.send_replace(true);
    }
}

#[derive(Clone, Copy)]
enum Then {
    Poem,
    Reset,
}

async fn upstream(poem: Bytes, open: bool, behave: fn(usize) -> Then) -> Upstream {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let (gate, opened) = watch::channel(open);
    let count = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            let (poem, mut opened) = (poem.clone(), opened.clone());
            tokio::spawn(async move {
                let _ = opened.wait_for(|open| *open).await;
                match behave(n) {
                    Then::Poem => {
                        let _ = s.write_all(&poem).await;
                    }
                    Then::Reset => {
                        let _ = s.set_zero_linger();
                    }
                }
            });
        }
    });
    Upstream {
        addr,
        connections,
        gate,
    }
}

#[tokio::test]
async fn the_poem_is_fetched_once_then_served_from_the_cache() {
    let poem = poem("ecstasy.txt");
    let up = upstream(poem.clone(), true, |_| Then::Poem).await;
    let proxy = proxy_server(Config::new(up.addr)).await;
    for _ in 0..5 {
        assert_eq!(
            get_poem(proxy.addr, T, MAX_POEM, |_| {}).await.unwrap(),
            poem
        );
    }
    assert_eq!(up.connections(), 1);
    let stats = proxy.stop().await;
    assert_eq!((stats.poems, stats.fetches, stats.failed), (5, 1, 0));
}

/// Connects `n` clients to the proxy, on tasks.
fn clients(addr: SocketAddr, n: usize) -> Vec<JoinHandle<Result<Bytes, FetchError>>> {
    (0..n)
        .map(|_| tokio::spawn(async move { get_poem(addr, T, MAX_POEM, |_| {}).await }))
        .collect()
}

/// `1 + more` clients of the proxy at `addr`, on tasks: the first one starts the fetch, which
/// `up` holds until the others are waiting too, then lets go.
async fn during_the_first_fetch(
    up: &Upstream,
    addr: SocketAddr,
    more: usize,
) -> Vec<JoinHandle<Result<Bytes, FetchError>>> {
    let mut all = clients(addr, 1);
    up.until_connections(1).await;
    all.extend(clients(addr, more));
    tokio::time::sleep(Duration::from_millis(200)).await;
    up.open();
    all
}

#[tokio::test]
async fn clients_arriving_during_the_first_fetch_share_it() {
    let poem = poem("alla_sera.txt");
    let up = upstream(poem.clone(), false, |_| Then::Poem).await;
    let proxy = proxy_server(Config::new(up.addr)).await;
    for c in during_the_first_fetch(&up, proxy.addr, 19).await {
        assert_eq!(c.await.unwrap().unwrap(), poem);
    }
    assert_eq!(
        up.connections(),
        1,
        "one upstream connection for twenty clients"
    );
    let stats = proxy.stop().await;
    assert_eq!((stats.poems, stats.fetches), (20, 1));
}

#[tokio::test]
async fn a_failed_fetch_closes_its_waiting_clients_and_is_not_cached() {
    let poem = poem("science.txt");
    // The first upstream connection is reset; the next ones work.
    let up = upstream(poem.clone(), false, |n| {
        if n == 1 { Then::Reset } else { Then::Poem }
    })
    .await;
    let proxy = proxy_server(Config::new(up.addr)).await;
    for c in during_the_first_fetch(&up, proxy.addr, 4).await {
        assert!(
            matches!(c.await.unwrap(), Err(FetchError::Empty)),
            "closed without a poem"
        );
    }
    assert_eq!(up.connections(), 1);
    // The failure was not kept: the next client makes the proxy try again.
    assert_eq!(
        get_poem(proxy.addr, T, MAX_POEM, |_| {}).await.unwrap(),
        poem
    );
    assert_eq!(
        get_poem(proxy.addr, T, MAX_POEM, |_| {}).await.unwrap(),
        poem
    );
    assert_eq!(up.connections(), 2);
    let stats = proxy.stop().await;
    assert_eq!(
        (
            stats.poems,
            stats.failed,
            stats.fetches,
            stats.failed_fetches
        ),
        (2, 5, 2, 1)
    );
}

#[tokio::test]
async fn an_unreachable_upstream_is_retried_by_each_new_client() {
    let proxy = proxy_server(Config::new(refused_addr())).await;
    for _ in 0..2 {
        assert!(matches!(
            get_poem(proxy.addr, T, MAX_POEM, |_| {}).await,
            Err(FetchError::Empty)
        ));
    }
    let stats = proxy.stop().await;
    assert_eq!(
        (stats.fetches, stats.failed_fetches, stats.failed),
        (2, 2, 2)
    );
}

#[tokio::test]
async fn the_binary_announces_the_upstream_and_serves_its_poem() {
    let poem = poem("fascination.txt");
    let server = poetry_server(poetry::server::Config::new(poem.clone())).await;
    let port = server.addr.port();
    let bg = tokio::task::spawn_blocking(move || {
        Background::start(PROXY, &[port.to_string(), "--port".into(), "0".into()])
    })
    .await
    .unwrap();
    let prefix = format!("Proxying 127.0.0.1:{port} on 127.0.0.1:");
    assert!(
        bg.first_line.starts_with(&prefix) && bg.first_line.ends_with('.'),
        "{}",
        bg.first_line
    );
    assert_eq!(
        get_poem(bg.addr(), T, MAX_POEM, |_| {}).await.unwrap(),
        poem
    );
    assert_eq!(
        get_poem(bg.addr(), T, MAX_POEM, |_| {}).await.unwrap(),
        poem
    );
    let (code, stderr) = tokio::task::spawn_blocking(move || bg.signal(Signal::Int))
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("fetched upstream 1 time(s)"), "{stderr}");
    assert_eq!(server.stop().await.poems, 1, "the upstream served one poem");
}

#[test]
fn a_bad_upstream_address_exits_2() {
    let out = run_bin(PROXY, &["localhost:poem".into()]);
    assert_eq!(out.code(), Some(2));
    assert!(
        out.stderr.contains("Ports must be integers."),
        "{}",
        out.stderr
    );
}
