//! The echo server through `run()` and `run_udp()` on real sockets (127.0.0.1, port 0).

use std::net::SocketAddr;
use std::time::Duration;

use echo::server::{self, Config, Stats};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

/// Every test is bounded by this.
const LIMIT: Duration = Duration::from_mins(1);

/// Runs a test's body, bounded by [`LIMIT`].
async fn bounded(test: impl Future<Output = ()>) {
    timeout(LIMIT, test)
        .await
        .expect("the test ends within its limit");
}

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    handle: JoinHandle<Result<Stats, echo::Error>>,
}

impl Server {
    fn start(config: Config) -> Self {
        let listener = common::net::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(server::run(listener, config, async move {
            let _ = rx.await;
        }));
        Self {
            addr,
            stop: Some(tx),
            handle,
        }
    }

    fn trigger_stop(&mut self) {
        self.stop.take().unwrap().send(()).unwrap();
    }

    async fn stop(mut self) -> Stats {
        self.trigger_stop();
        self.stats().await
    }

    async fn stats(self) -> Stats {
        timeout(Duration::from_secs(20), self.handle)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap()
    }
}

/// Random bytes from a seed (xorshift), so each test and each client has its own data.
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = vec![0u8; len];
    for chunk in out.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    out
}

/// Sends `data` while reading the echo, half-closes, and returns everything read until EOF.
async fn echo_through(addr: SocketAddr, data: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = stream.split();
    let send = async {
        wr.write_all(data).await.unwrap();
        wr.shutdown().await.unwrap();
    };
    let mut echoed = Vec::with_capacity(data.len());
    let receive = rd.read_to_end(&mut echoed);
    let ((), r) = tokio::join!(send, receive);
    r.unwrap();
    echoed
}

#[tokio::test]
async fn random_payloads_come_back_byte_for_byte() {
    bounded(async {
        let server = Server::start(Config::default());
        let sizes = [1, 2, 511, 4096, 65_535, 65_536, 65_537, 1 << 20, 16 << 20];
        let mut total = 0;
        for (i, &size) in sizes.iter().enumerate() {
            let data = random_bytes(i as u64 + 1, size);
            let echoed = echo_through(server.addr, &data).await;
            assert_eq!(echoed.len(), data.len(), "size {size}");
            assert!(echoed == data, "the echo of {size} bytes differs");
            total += size as u64;
        }
        let stats = server.stop().await;
        assert_eq!(stats.connections, sizes.len() as u64);
        assert_eq!(stats.bytes, total);
        assert_eq!(stats.cut_at_grace, 0);
    })
    .await;
}

#[tokio::test]
async fn half_close_gets_everything_then_eof() {
    bounded(async {
        let server = Server::start(Config::default());
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(b"first ").await.unwrap();
        stream.write_all(b"second").await.unwrap();
        // Shut our write side at once, before reading anything.
        stream.shutdown().await.unwrap();
        let mut echoed = Vec::new();
        timeout(Duration::from_secs(5), stream.read_to_end(&mut echoed))
            .await
            .expect("the server closes its side after the echo")
            .unwrap();
        assert_eq!(echoed, b"first second");
        // An empty exchange too: connect and half-close at once.
        assert_eq!(echo_through(server.addr, b"").await, b"");
        server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_concurrent_clients_each_get_their_own_data() {
    const CLIENTS: u64 = 2000;
    // Both ends of every connection live in this process.
    let limit = common::limits::raise_fd_limit();
    assert!(
        limit >= 2 * CLIENTS + 64,
        "the open-file limit ({limit}) is too low for this test"
    );
    bounded(async {
        let server = Server::start(Config::default());
        let addr = server.addr;
        // All connect first, then all send at once: 2,000 connections open together.
        let go = std::sync::Arc::new(tokio::sync::Barrier::new(CLIENTS as usize));
        let mut clients = tokio::task::JoinSet::new();
        for id in 0..CLIENTS {
            let go = go.clone();
            clients.spawn(async move {
                let data = random_bytes(1000 + id, 1024 + (id as usize % 7) * 100);
                let mut stream = TcpStream::connect(addr).await?;
                go.wait().await;
                stream.write_all(&data).await?;
                stream.shutdown().await?;
                let mut echoed = Vec::new();
                stream.read_to_end(&mut echoed).await?;
                if echoed != data {
                    return Err(std::io::Error::other(format!("client {id}: wrong echo")));
                }
                Ok::<_, std::io::Error>(data.len() as u64)
            });
        }
        let mut errors = Vec::new();
        let mut bytes = 0;
        while let Some(r) = clients.join_next().await {
            match r.unwrap() {
                Ok(n) => bytes += n,
                Err(e) => errors.push(e.to_string()),
            }
        }
        assert!(
            errors.is_empty(),
            "{} errors, first: {}",
            errors.len(),
            errors[0]
        );
        let stats = server.stop().await;
        assert_eq!(stats.connections, CLIENTS);
        assert_eq!(stats.bytes, bytes);
    })
    .await;
}

#[tokio::test]
async fn a_client_that_does_not_read_is_held_back_then_served() {
    bounded(async {
        let server = Server::start(Config::default());
        let data = random_bytes(7, 64 << 20);
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let (mut rd, mut wr) = stream.split();
        // Without reading, 64 MiB cannot all go out: the server stops reading once its echo
        // cannot be written, so only the kernel's buffers fill up.
        let mut sent = 0;
        let stalled = timeout(Duration::from_secs(2), async {
            while sent < data.len() {
                let n = wr
                    .write(&data[sent..(sent + 65_536).min(data.len())])
                    .await
                    .unwrap();
                sent += n;
            }
        })
        .await
        .is_err();
        assert!(
            stalled,
            "the server took all 64 MiB without the client reading"
        );
        assert!(sent < 48 << 20, "{sent} bytes went out before the stall");
        // Now read while sending the rest: all of it comes back, in order.
        let send = async {
            wr.write_all(&data[sent..]).await.unwrap();
            wr.shutdown().await.unwrap();
        };
        let mut echoed = Vec::with_capacity(data.len());
        let ((), r) = tokio::join!(send, rd.read_to_end(&mut echoed));
        r.unwrap();
        assert!(echoed == data, "the echo differs");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_timeout() {
    bounded(async {
        let server = Server::start(Config {
            idle_timeout: Some(Duration::from_millis(600)),
            ..Config::default()
        });
        let mut idle = TcpStream::connect(server.addr).await.unwrap();
        let mut busy = TcpStream::connect(server.addr).await.unwrap();
        idle.write_all(b"x").await.unwrap();
        let mut one = [0u8; 1];
        idle.read_exact(&mut one).await.unwrap();
        let start = Instant::now();

        // The busy one talks every 100 ms for 1.5 s: it is never idle that long.
        for i in 0..15u8 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            busy.write_all(&[i]).await.unwrap();
            timeout(Duration::from_secs(5), busy.read_exact(&mut one))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(one[0], i);
            if i == 1 {
                // About 200 ms after its last byte, the idle one is still open.
                let r = idle.try_read(&mut one);
                assert!(
                    matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
                    "the idle connection was closed early: {r:?} after {:?}",
                    start.elapsed()
                );
            }
        }
        // By now the idle one has been closed (EOF).
        let n = timeout(Duration::from_secs(5), idle.read(&mut one))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, 0, "the idle connection is closed");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn over_max_connections_new_ones_wait_for_a_free_slot() {
    bounded(async {
        let server = Server::start(Config {
            max_connections: 2,
            ..Config::default()
        });
        let ping = |mut s: TcpStream, byte: u8| async move {
            s.write_all(&[byte]).await.unwrap();
            let mut one = [0u8; 1];
            timeout(Duration::from_secs(5), s.read_exact(&mut one))
                .await
                .expect("an echo")
                .unwrap();
            assert_eq!(one[0], byte);
            s
        };
        let first = ping(TcpStream::connect(server.addr).await.unwrap(), 1).await;
        let second = ping(TcpStream::connect(server.addr).await.unwrap(), 2).await;

        // The third gets through the kernel's handshake but is not served.
        let mut third = TcpStream::connect(server.addr).await.unwrap();
        third.write_all(&[3]).await.unwrap();
        let mut one = [0u8; 1];
        assert!(
            timeout(Duration::from_millis(500), third.read_exact(&mut one))
                .await
                .is_err(),
            "a third connection was served while the limit is 2"
        );
        // The two served ones keep working.
        let second = ping(second, 22).await;
        let _first = ping(first, 11).await;

        // A slot frees up: the third one is served, its early byte included.
        drop(second);
        timeout(Duration::from_secs(5), third.read_exact(&mut one))
            .await
            .expect("served once a slot is free")
            .unwrap();
        assert_eq!(one[0], 3);
        let stats = server.stop().await;
        assert_eq!(stats.connections, 3);
    })
    .await;
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_echo_finish_and_closes_idle_ones_at_once() {
    bounded(async {
        let mut server = Server::start(Config {
            grace: Duration::from_secs(20),
            ..Config::default()
        });
        let mut idle = TcpStream::connect(server.addr).await.unwrap();
        idle.write_all(b"hi").await.unwrap();
        let mut two = [0u8; 2];
        idle.read_exact(&mut two).await.unwrap();

        // A big message the client does not read yet: the echo is in flight, stalled.
        let data = random_bytes(42, 256 * 1024);
        let mut busy = TcpStream::connect(server.addr).await.unwrap();
        timeout(Duration::from_secs(10), busy.write_all(&data))
            .await
            .expect("256 KiB fit in the kernel's buffers")
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;

        server.trigger_stop();
        let stopped_at = Instant::now();
        // The idle connection is closed at once, long before the 20 s grace period.
        let n = timeout(Duration::from_secs(5), idle.read(&mut two))
            .await
            .expect("the idle connection is closed promptly")
            .unwrap();
        assert_eq!(n, 0);
        // The in-flight echo comes back whole, then the server closes.
        let mut echoed = Vec::new();
        timeout(Duration::from_secs(10), busy.read_to_end(&mut echoed))
            .await
            .expect("the in-flight echo finishes")
            .unwrap();
        assert_eq!(echoed.len(), data.len());
        assert!(echoed == data);
        let stats = server.stats().await;
        assert!(stopped_at.elapsed() < Duration::from_secs(10));
        assert_eq!(stats.connections, 2);
        assert_eq!(stats.bytes, 2 + data.len() as u64);
        assert_eq!(stats.cut_at_grace, 0);
    })
    .await;
}

#[tokio::test]
async fn after_the_grace_period_stuck_connections_are_cut() {
    bounded(async {
        let mut server = Server::start(Config {
            grace: Duration::from_millis(300),
            ..Config::default()
        });
        let addr = server.addr;
        // This client sends a lot and never reads: its echo can never finish.
        let mut stuck = TcpStream::connect(addr).await.unwrap();
        let data = random_bytes(5, 32 << 20);
        let writer = tokio::spawn(async move {
            let _ = stuck.write_all(&data).await;
            stuck
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        server.trigger_stop();
        let start = Instant::now();
        let stats = server.stats().await;
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(250), "stopped after {took:?}");
        assert!(took < Duration::from_secs(5), "stopped after {took:?}");
        assert_eq!(stats.cut_at_grace, 1);
        // The client's write fails or finishes now that the server is gone.
        let _ = timeout(Duration::from_secs(10), writer).await.unwrap();
        // And nobody listens any more.
        assert!(TcpStream::connect(addr).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn udp_datagrams_go_back_to_their_sender() {
    bounded(async {
        let socket = server::bind_udp("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(server::run_udp(socket, async move {
            let _ = rx.await;
        }));
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = vec![0u8; 70_000];
        let mut bytes = 0;
        for (i, size) in [1usize, 1000, 65_507].into_iter().enumerate() {
            let da = random_bytes(i as u64, size);
            let db = random_bytes(100 + i as u64, size);
            a.send_to(&da, addr).await.unwrap();
            b.send_to(&db, addr).await.unwrap();
            for (sock, want) in [(&a, &da), (&b, &db)] {
                let (n, from) = timeout(Duration::from_secs(5), sock.recv_from(&mut buf))
                    .await
                    .expect("an echo")
                    .unwrap();
                assert_eq!(from, addr);
                assert_eq!(&buf[..n], &want[..]);
            }
            bytes += 2 * size as u64;
        }
        tx.send(()).unwrap();
        let stats = timeout(Duration::from_secs(5), handle)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(stats.datagrams, 6);
        assert_eq!(stats.bytes, bytes);
    })
    .await;
}

#[tokio::test]
async fn the_library_client_and_bench_agree_with_the_server() {
    bounded(async {
        let server = Server::start(Config::default());
        let echoed = echo::client::echo_once(server.addr, b"hello alex!", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(echoed, b"hello alex!");
        let report = echo::bench::run(
            &echo::bench::Config {
                addr: server.addr,
                connections: 4,
                size: 100_000,
                duration: Duration::from_millis(300),
                pace: common::schedule::Pace::CLOSED,
            },
            None,
            std::future::pending(),
        )
        .await
        .unwrap();
        assert_eq!(report.errors, 0, "{:?}", report.first_error);
        assert!(report.messages > 0);
        assert!(report.latency_us.p50 > 0.0);
        assert!(report.latency_us.max >= report.latency_us.p99);
        let stats = server.stop().await;
        assert_eq!(stats.connections, 5);
        assert_eq!(stats.bytes, 11 + report.messages * 100_000);
    })
    .await;
}
