//! poetry-server's library `run()`: byte-exact poems, slow mode's pieces, many clients at once,
//! the connection limit, graceful shutdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::support::{MAX_POEM, Running, poem, poetry_server};
use bytes::Bytes;
use poetry::client::{FetchError, get_poem};
use poetry::server::{Config, piece_end};
use tokio::io::AsyncReadExt;

const T: Duration = Duration::from_secs(10);

#[tokio::test]
async fn fast_mode_round_trips_ascii_and_utf8_poems_byte_for_byte() {
    for name in ["ecstasy.txt", "alla_sera.txt"] {
        let poem = poem(name);
        let server = poetry_server(Config::new(poem.clone())).await;
        for _ in 0..3 {
            let got = get_poem(server.addr, T, MAX_POEM, |_| {}).await.unwrap();
            assert_eq!(got, poem, "{name}");
        }
        let stats = server.stop().await;
        assert_eq!((stats.connections, stats.poems, stats.cut_short), (3, 3, 0));
        assert_eq!(stats.bytes, 3 * poem.len() as u64);
    }
    assert!(
        std::str::from_utf8(&poem("alla_sera.txt"))
            .unwrap()
            .chars()
            .any(|c| c.len_utf8() > 1),
        "alla_sera.txt has multi-byte characters"
    );
}

#[tokio::test]
async fn fast_mode_finishes_a_poem_bigger_than_the_send_buffer() {
    // 8 MiB does not fit in one send: the rest is written by a task, with backpressure.
    let poem: Bytes = (0..8 << 20).map(|i: u32| (i % 251) as u8).collect();
    let server = poetry_server(Config::new(poem.clone())).await;
    let (a, b) = tokio::join!(
        get_poem(server.addr, T, MAX_POEM, |_| {}),
        get_poem(server.addr, T, MAX_POEM, |_| {})
    );
    assert!(a.unwrap() == poem && b.unwrap() == poem);
    assert_eq!(server.stop().await.poems, 2);
}

/// Reads a slow poem, noting where each read ended.
async fn read_with_ends(addr: SocketAddr) -> (Vec<u8>, Vec<usize>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut all, mut ends) = (Vec::new(), Vec::new());
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).await.unwrap();
        if n == 0 {
            return (all, ends);
        }
        all.extend_from_slice(&buf[..n]);
        ends.push(all.len());
    }
}

fn piece_ends(poem: &[u8], num_bytes: usize) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut at = 0;
    while at < poem.len() {
        at = piece_end(poem, at, num_bytes);
        ends.push(at);
    }
    ends
}

#[tokio::test]
async fn slow_mode_sends_pieces_that_never_split_a_character() {
    let poem = poem("alla_sera.txt");
    for num_bytes in [1, 2, 10] {
        let expected = piece_ends(&poem, num_bytes);
        // Every piece is num_bytes long, or shorter to end on a character, or one whole
        // character longer than num_bytes.
        let mut start = 0;
        for &end in &expected {
            let piece = std::str::from_utf8(&poem[start..end]).expect("whole characters");
            assert!(
                piece.len() <= num_bytes || piece.chars().count() == 1,
                "{piece:?} for {num_bytes}"
            );
            start = end;
        }
        assert!(
            expected.windows(2).any(|w| w[1] - w[0] < num_bytes.max(2)) || num_bytes == 1,
            "some piece was shortened to end on a character"
        );

        let delay = Duration::from_millis(if num_bytes == 10 { 5 } else { 1 });
        let server = poetry_server(Config::new(poem.clone()).slow(delay, num_bytes)).await;
        let (got, ends) = read_with_ends(server.addr).await;
        assert_eq!(got, poem, "the whole poem, byte for byte");
        assert!(ends.len() > 1, "the poem came in pieces, not at once");
        for end in &ends {
            assert!(
                expected.contains(end),
                "a read ended at {end}, inside a piece (num_bytes {num_bytes})"
            );
            assert!(
                std::str::from_utf8(&got[..*end]).is_ok(),
                "a read ended inside a character"
            );
        }
        assert_eq!(server.stop().await.poems, 1);
    }
}

#[tokio::test]
async fn slow_mode_serves_many_clients_at_once() {
    // 7 pieces, 150 ms apart: about 0.9 s per poem; served one after the other, 100 clients
    // would take 90 s, and none would get a byte before the previous one had its whole poem.
    let poem = poem("science.txt");
    let server =
        poetry_server(Config::new(poem.clone()).slow(Duration::from_millis(150), 100)).await;
    let addr = server.addr;
    let clients: Vec<_> = (0..100)
        .map(|_| {
            tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                let mut all = Vec::new();
                let mut first = None;
                let mut buf = [0u8; 1024];
                loop {
                    let n = s.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return (all, first.unwrap(), Instant::now());
                    }
                    first.get_or_insert_with(Instant::now);
                    all.extend_from_slice(&buf[..n]);
                }
            })
        })
        .collect();
    let mut last_first_byte = None;
    let mut first_end = None;
    for c in clients {
        let (got, first, end) = c.await.unwrap();
        assert_eq!(got, poem);
        last_first_byte = last_first_byte.max(Some(first));
        first_end = Some(first_end.map_or(end, |e: Instant| e.min(end)));
    }
    assert!(
        last_first_byte < first_end,
        "every client had its first piece before any client had its whole poem"
    );
    let stats = server.stop().await;
    assert_eq!((stats.poems, stats.cut_short), (100, 0));
}

#[tokio::test]
async fn at_the_connection_limit_new_clients_wait_their_turn() {
    let poem = poem("fascination.txt"); // 615 bytes: 7 pieces of 100
    let mut config = Config::new(poem.clone()).slow(Duration::from_millis(20), 100);
    config.max_connections = 1;
    let server = poetry_server(config).await;
    let mut a = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut got_a = vec![0u8; 100];
    a.read_exact(&mut got_a).await.unwrap();
    let b = std::net::TcpStream::connect(server.addr).unwrap();
    b.set_nonblocking(true).unwrap();
    // While the first client's poem is still coming, the second gets nothing.
    let mut more = vec![0u8; 200];
    a.read_exact(&mut more).await.unwrap();
    got_a.extend_from_slice(&more);
    let mut probe = [0u8; 1];
    assert!(
        matches!(b.peek(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the second client got bytes while the first one was being served"
    );
    a.read_to_end(&mut got_a).await.unwrap();
    let mut got_b = Vec::new();
    tokio::net::TcpStream::from_std(b)
        .unwrap()
        .read_to_end(&mut got_b)
        .await
        .unwrap();
    assert_eq!((got_a, got_b), (poem.to_vec(), poem.to_vec()));
    assert_eq!(server.stop().await.poems, 2);
}

/// A slow server of science.txt, `num_bytes` every `delay_ms` milliseconds, with the grace
/// period `grace`: the poem and the server.
async fn slow_server(
    delay_ms: u64,
    num_bytes: usize,
    grace: Duration,
) -> (Bytes, Running<poetry::server::Stats>) {
    let poem = poem("science.txt");
    let mut config = Config::new(poem.clone()).slow(Duration::from_millis(delay_ms), num_bytes);
    config.grace = grace;
    (poem, poetry_server(config).await)
}

#[tokio::test]
async fn shutdown_lets_poems_in_progress_finish_within_the_grace_period() {
    let (poem, server) = slow_server(50, 100, Duration::from_secs(10)).await;
    let addr = server.addr;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut first = [0u8; 1];
    s.read_exact(&mut first).await.unwrap();
    let stopping = tokio::spawn(server.stop());
    // The rest of the poem still comes, then a clean close.
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).await.unwrap();
    assert_eq!([&first[..], &rest].concat(), poem);
    let stats = stopping.await.unwrap();
    assert_eq!((stats.poems, stats.cut_short), (1, 0));
    // The listener is closed: nobody else gets in.
    let err = tokio::net::TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn after_the_grace_period_poems_in_progress_end_with_a_reset_not_a_clean_close() {
    let (poem, server) = slow_server(200, 10, Duration::from_millis(100)).await;
    let addr = server.addr;
    let (first_bytes, mut arrived) = tokio::sync::mpsc::unbounded_channel();
    let client = tokio::spawn(async move {
        get_poem(addr, T, MAX_POEM, |_| {
            let _ = first_bytes.send(());
        })
        .await
    });
    arrived.recv().await;
    let stats = server.stop().await;
    assert_eq!((stats.poems, stats.cut_short), (0, 1));
    match client.await.unwrap() {
        Err(FetchError::Reset { got }) => assert!(got > 0 && got < poem.len()),
        other => panic!("expected a reset, got {other:?}"),
    }
}
