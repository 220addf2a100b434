//! What the poetry tests share beyond `test_support`: the poems, servers run in-process with
//! `run()`, small misbehaving servers, and the crate's binaries run with bounded waits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use test_support::{Proc, Run, STEP, addr_in, command};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const SERVER: &str = env!("CARGO_BIN_EXE_poetry-server");
pub const CLIENT: &str = env!("CARGO_BIN_EXE_poetry-client");
pub const TRANSFORM: &str = env!("CARGO_BIN_EXE_poetry-transform");
pub const PROXY: &str = env!("CARGO_BIN_EXE_poetry-proxy");

/// The default largest poem (`--max-poem-size`), for downloads in the tests.
pub const MAX_POEM: usize = poetry::limits::DEFAULT_MAX_POEM_SIZE;

/// A poem shipped in `poetry/poems/`.
pub fn poem_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("poems")
        .join(name)
}

/// The bytes of a poem shipped in `poetry/poems/`.
pub fn poem(name: &str) -> Bytes {
    Bytes::from(std::fs::read(poem_path(name)).expect("the poem files ship with the crate"))
}

/// `["a", "b"]` as owned arguments.
pub fn s(list: &[&str]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

/// Anything printable as arguments: addresses, numbers, words.
pub fn args(list: &[&dyn ToString]) -> Vec<String> {
    list.iter().map(|a| a.to_string()).collect()
}

/// A server running in this process, stopped by [`Running::stop`].
pub struct Running<S> {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<S, poetry::Error>>,
}

impl<S> Running<S> {
    /// Asks the server to stop and returns its stats.
    pub async fn stop(mut self) -> S {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(20), &mut self.task)
            .await
            .expect("the server stops")
            .expect("the server task does not panic")
            .expect("the server stops without an error")
    }
}

/// Runs `run(listener, config, shutdown)` on a task, on `listener` (see [`local`]).
pub fn start_on<C, S, F>(
    listener: TcpListener,
    run: impl FnOnce(TcpListener, C, futures_util::future::BoxFuture<'static, ()>) -> F,
    config: C,
) -> Running<S>
where
    F: std::future::Future<Output = Result<S, poetry::Error>> + Send + 'static,
    S: Send + 'static,
{
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown: futures_util::future::BoxFuture<'static, ()> = Box::pin(async move {
        let _ = stopped.await;
    });
    let task = tokio::spawn(run(listener, config, shutdown));
    Running {
        addr,
        stop: Some(stop),
        task,
    }
}

/// A listener on 127.0.0.1, on a free port.
pub async fn local() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.unwrap()
}

/// A poetry server (fast mode unless the config says slow) on a free port.
pub async fn poetry_server(config: poetry::server::Config) -> Running<poetry::server::Stats> {
    start_on(local().await, poetry::server::run, config)
}

/// The poem `file` and a fast poetry server of it on a free port.
pub async fn serving(file: &str) -> (Bytes, Running<poetry::server::Stats>) {
    let poem = poem(file);
    let server = poetry_server(poetry::server::Config::new(poem.clone())).await;
    (poem, server)
}

/// A transform service on a free port.
pub async fn transform_server(
    config: poetry::transform::Config,
) -> Running<poetry::transform::Stats> {
    start_on(local().await, poetry::transform::run, config)
}

/// A proxy on a free port.
pub async fn proxy_server(config: poetry::proxy::Config) -> Running<poetry::proxy::Stats> {
    start_on(local().await, poetry::proxy::run, config)
}

/// A server that sends the first `send` bytes of `poem` to each client, then resets the
/// connection (SO_LINGER 0): the poem is incomplete.
pub async fn resetting_server(poem: Bytes, send: usize) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let poem = poem.clone();
            tokio::spawn(async move {
                let _ = s.write_all(&poem[..send]).await;
                // Let the bytes reach the client before the reset does.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = s.set_zero_linger();
                drop(s);
            });
        }
    });
    addr
}

/// A server that closes every connection at once, without a byte.
pub async fn empty_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            drop(s);
        }
    });
    addr
}

/// Runs a binary of the crate to the end (at most [`STEP`]), stdin empty.
pub fn run_bin(bin: &str, args: &[String]) -> Run {
    test_support::run(command(bin).args(args), b"", STEP)
}

/// Runs a binary from an async test.
pub async fn run_bin_async(bin: &'static str, args: Vec<String>) -> Run {
    tokio::task::spawn_blocking(move || run_bin(bin, &args))
        .await
        .unwrap()
}

/// A server binary running in the background, with the address of its first line; killed
/// when dropped.
pub struct Background {
    pub proc: Proc,
    pub first_line: String,
}

impl Background {
    /// Starts `bin` and waits (at most [`STEP`]) for its first stdout line.
    pub fn start(bin: &str, args: &[String]) -> Self {
        let mut proc = Proc::spawn(command(bin).args(args));
        let first_line = proc.first_line(STEP);
        Self { proc, first_line }
    }

    /// The `ip:port` the first line ends with (`Proxying <upstream> on <this>.`).
    pub fn addr(&self) -> SocketAddr {
        addr_in(self.first_line.rsplit(' ').next().unwrap_or_default())
    }

    /// Sends SIGTERM or SIGINT and waits (at most [`STEP`]) for the exit: code and stderr.
    pub fn signal(mut self, sig: test_support::Signal) -> (Option<i32>, String) {
        self.proc.signal(sig);
        let run = self.proc.finish(STEP);
        (run.code(), run.stderr)
    }
}

/// Reads everything a raw connection sends until it closes (for protocol-level tests).
pub async fn read_all(addr: SocketAddr, send: &[u8]) -> std::io::Result<Vec<u8>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.write_all(send).await?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("the server closes")?;
    Ok(out)
}

/// A server that never stops sending (zeros, 64 KiB at a time) to each client until the client
/// goes away: a poem without end.
pub async fn endless_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let chunk = vec![0u8; 64 * 1024];
                while s.write_all(&chunk).await.is_ok() {}
            });
        }
    });
    addr
}

/// A server that sends the first `send` bytes of `poem` to each client, then holds the
/// connection open without a word more (a download that never ends, until the client goes).
/// The receiver hears of each connection.
pub async fn stalling_server(
    poem: Bytes,
    send: usize,
) -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (connected, connections) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = l.accept().await {
            let _ = connected.send(());
            let poem = poem.clone();
            tokio::spawn(async move {
                let _ = s.write_all(&poem[..send]).await;
                // Until the client closes.
                let _ = s.read_to_end(&mut Vec::new()).await;
            });
        }
    });
    (addr, connections)
}

/// The peak resident memory (`VmHWM`) of the running process `pid`, in bytes.
pub fn peak_memory(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("the status of process {pid}: {e}"));
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in {status}"));
    kib * 1024
}

/// Mebibytes, for messages.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
}

/// Asserts that the JSON object `line` holds each `"key":value` (the value as JSON text, or its
/// beginning); `context` is shown when one is missing.
pub fn assert_fields(line: &str, fields: &[(&str, String)], context: &dyn std::fmt::Debug) {
    for (key, value) in fields {
        assert!(
            line.contains(&format!("\"{key}\":{value}")),
            "{key}: {context:?}"
        );
    }
}

/// Waits until `client` has connected to a [`stalling_server`] (its `connections` says so),
/// then sends it `sig` and answers its run.
pub async fn signal_once_connected(
    mut client: Proc,
    connections: &mut tokio::sync::mpsc::UnboundedReceiver<()>,
    sig: test_support::Signal,
) -> Run {
    tokio::time::timeout(STEP, connections.recv())
        .await
        .expect("the client connects");
    tokio::task::spawn_blocking(move || {
        client.signal(sig);
        client.finish(STEP)
    })
    .await
    .unwrap()
}
