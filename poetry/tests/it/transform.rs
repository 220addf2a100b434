//! poetry-transform: the netstring protocol on real sockets, each rejected input, the binary.

use std::time::Duration;

use poetry::transform::{Config, Transform, TransformError, request};
use test_support::Signal;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::support::{Background, TRANSFORM, read_all, transform_server};

#[tokio::test]
async fn the_tutorial_request_gets_the_tutorial_reply() {
    let service = transform_server(Config::default()).await;
    let reply = read_all(service.addr, b"27:cummingsify.HERE IS MY POEM,")
        .await
        .unwrap();
    assert_eq!(reply, b"15:here is my poem,");
    let stats = service.stop().await;
    assert_eq!((stats.transformed, stats.rejected), (1, 0));
}

#[tokio::test]
async fn a_request_sent_in_pieces_is_answered() {
    let service = transform_server(Config::default()).await;
    let mut s = tokio::net::TcpStream::connect(service.addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    for piece in [&b"2"[..], b"7:cumm", b"ingsify.HERE IS", b" MY POEM", b","] {
        s.write_all(piece).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).await.unwrap();
    assert_eq!(reply, b"15:here is my poem,");
    service.stop().await;
}

#[tokio::test]
async fn lowercasing_is_unicode_aware_and_the_length_counts_bytes() {
    let service = transform_server(Config::default()).await;
    // "İ" (2 bytes) lowercases to "i̇" (3 bytes); a final capital sigma becomes "ς".
    let poem = "ÉTÉ ΣΟΦΟΣ İ";
    let got = request(
        service.addr,
        Transform::Cummingsify,
        poem.as_bytes(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(std::str::from_utf8(&got).unwrap(), "été σοφος i̇");
    let raw = read_all(
        service.addr,
        &poetry::netstring::encode(&[b"cummingsify.", poem.as_bytes()]),
    )
    .await
    .unwrap();
    assert_eq!(
        raw,
        format!("{}:été σοφος i̇,", "été σοφος i̇".len()).as_bytes()
    );
    service.stop().await;
}

#[tokio::test]
async fn each_bad_request_is_closed_without_a_reply() {
    let service = transform_server(Config {
        max_length: 100,
        ..Config::default()
    })
    .await;
    let cases: [(&str, &[u8]); 9] = [
        ("not a length", b"abc:cummingsify.x,"),
        ("no length", b":cummingsify.x,"),
        ("leading zero", b"013:cummingsify.x,"),
        ("no comma after the payload", b"13:cummingsify.x;"),
        ("no dot", b"11:cummingsify,"),
        ("unknown transform", b"7:shout.x,"),
        ("invalid UTF-8", b"14:cummingsify.\xff\xfe,"),
        ("over --max-length", b"101:"),
        ("closed mid-request", b"30:cummingsify.only part"),
    ];
    for (what, request) in cases {
        let mut s = tokio::net::TcpStream::connect(service.addr).await.unwrap();
        s.write_all(request).await.unwrap();
        if what == "closed mid-request" {
            s.shutdown().await.unwrap();
        }
        let mut reply = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut reply))
            .await
            .expect("the service closes the connection");
        // A clean close, or a reset when the service left unread bytes behind: either way no reply.
        assert!(reply.is_empty(), "{what}: replied {reply:?} ({read:?})");
    }
    let stats = service.stop().await;
    assert_eq!(
        (stats.transformed, stats.rejected),
        (0, cases.len() as u64),
        "each rejection is counted (and logged)"
    );
}

#[tokio::test]
async fn a_silent_client_is_dropped_after_the_timeout() {
    let service = transform_server(Config {
        timeout: Duration::from_millis(200),
        ..Config::default()
    })
    .await;
    let reply = read_all(service.addr, b"27:cummingsify.HERE")
        .await
        .unwrap();
    assert!(reply.is_empty());
    assert_eq!(service.stop().await.rejected, 1);
}

#[tokio::test]
async fn the_client_side_reports_a_refusal() {
    let service = transform_server(Config {
        max_length: 10,
        ..Config::default()
    })
    .await;
    let err = request(
        service.addr,
        Transform::Cummingsify,
        b"a poem longer than ten bytes",
        Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, TransformError::NoReply), "{err:?}");
    service.stop().await;
}

#[test]
fn the_binary_announces_itself_logs_rejections_and_stops_on_sigterm() {
    let bg = Background::start(TRANSFORM, &["--port".into(), "0".into()]);
    assert!(
        bg.first_line
            .starts_with("Serving transforms on 127.0.0.1:")
            && bg.first_line.ends_with('.'),
        "{}",
        bg.first_line
    );
    let addr = bg.addr();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        assert_eq!(
            read_all(addr, b"27:cummingsify.HERE IS MY POEM,")
                .await
                .unwrap(),
            b"15:here is my poem,"
        );
        assert!(read_all(addr, b"7:shout.x,").await.unwrap().is_empty());
    });
    let (code, stderr) = bg.signal(Signal::Term);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("rejected a request from 127.0.0.1:")
            && stderr.contains("unknown transform 'shout'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("poetry-transform: transformed 1 poem(s), rejected 1 request(s)"),
        "{stderr}"
    );
}
