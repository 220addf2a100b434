//! Helpers shared by the integration tests: the poems, servers run in-process with `run()`, the
//! real binaries, and small misbehaving servers.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

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

/// Binds 127.0.0.1:0 and runs `run(listener, config, shutdown)` on a task.
pub async fn start<C, S, F>(
    run: impl FnOnce(TcpListener, C, futures::future::BoxFuture<'static, ()>) -> F,
    config: C,
) -> Running<S>
where
    F: std::future::Future<Output = Result<S, poetry::Error>> + Send + 'static,
    S: Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown: futures::future::BoxFuture<'static, ()> = Box::pin(async move {
        let _ = stopped.await;
    });
    let task = tokio::spawn(run(listener, config, shutdown));
    Running {
        addr,
        stop: Some(stop),
        task,
    }
}

/// A poetry server (fast mode unless the config says slow) on a free port.
pub async fn poetry_server(config: poetry::server::Config) -> Running<poetry::server::Stats> {
    start(poetry::server::run, config).await
}

/// A transform service on a free port.
pub async fn transform_server(
    config: poetry::transform::Config,
) -> Running<poetry::transform::Stats> {
    start(poetry::transform::run, config).await
}

/// A proxy on a free port.
pub async fn proxy_server(config: poetry::proxy::Config) -> Running<poetry::proxy::Stats> {
    start(poetry::proxy::run, config).await
}

/// An address where nothing listens: connecting is refused (the port stays reserved).
pub fn refused_addr() -> SocketAddr {
    common::testing::refused_addr()
}

/// A server whose kernel accepts connections but which never sends anything: a client times
/// out. Keep the listener alive as long as the address is used.
pub fn silent_server() -> (std::net::TcpListener, SocketAddr) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    (l, addr)
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

/// What a finished binary did.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

/// Runs a binary of the crate to the end (on a blocking thread: call it from async tests
/// through `spawn_blocking` or from plain tests).
pub fn run_bin(bin: &str, args: &[String]) -> Output {
    let out = Command::new(bin)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    Output {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs a binary from an async test.
pub async fn run_bin_async(bin: &'static str, args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || run_bin(bin, &args))
        .await
        .unwrap()
}

pub const SERVER: &str = env!("CARGO_BIN_EXE_poetry-server");
pub const CLIENT: &str = env!("CARGO_BIN_EXE_poetry-client");
pub const TRANSFORM: &str = env!("CARGO_BIN_EXE_poetry-transform");
pub const PROXY: &str = env!("CARGO_BIN_EXE_poetry-proxy");

/// A server binary running in the background; killed when dropped.
pub struct Background {
    pub child: Child,
    pub first_line: String,
}

impl Background {
    /// Starts `bin` and waits for its first stdout line.
    pub fn start(bin: &str, args: &[String]) -> Self {
        let mut child = Command::new(bin)
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .expect("a first line");
        Self {
            child,
            first_line: line.trim_end().to_owned(),
        }
    }

    /// The `ip:port` in the first line.
    pub fn addr(&self) -> SocketAddr {
        let word = self
            .first_line
            .split_whitespace()
            .last()
            .expect("an address in the first line");
        word.trim_end_matches('.')
            .parse()
            .unwrap_or_else(|_| panic!("no address in {:?}", self.first_line))
    }

    /// Sends a signal (`TERM`, `INT`) and waits for the exit: code and stderr.
    pub fn signal(mut self, sig: &str) -> (Option<i32>, String) {
        let status = Command::new("kill")
            .args(["-s", sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let code = self.child.wait().unwrap().code();
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (code, err)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

/// Writes a file in a temporary folder (kept alive by the returned guard).
pub fn temp_file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    (dir, path)
}
