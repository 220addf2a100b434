//! The shared services of `scripts/services up` (Redis, RabbitMQ), unique names, temporary
//! files.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::net::amqp_start;
use crate::process::STEP;

/// How long connecting to a shared service may take.
const CONNECT: Duration = Duration::from_secs(5);

/// The Redis the tests share: `$REDIS_URL` when set and not blank, else
/// `redis://127.0.0.1:6379`.
pub fn redis_url() -> String {
    env_or("REDIS_URL", "redis://127.0.0.1:6379")
}

/// The RabbitMQ the tests share: `$AMQP_URL` when set and not blank, else
/// `amqp://guest:guest@127.0.0.1:5672/%2f`.
pub fn amqp_url() -> String {
    env_or("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f")
}

fn env_or(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Checks that the shared Redis answers PING; returns its URL ([`redis_url`]).
///
/// # Panics
/// Loudly, saying how to start it, when it does not: a test needing Redis never passes without
/// it.
pub fn require_redis() -> String {
    drop(redis_conn());
    redis_url()
}

/// A connection to the shared Redis ([`redis_url`]), checked with a PING; its reads and writes
/// time out after [`STEP`].
///
/// # Panics
/// Loudly, saying how to start it, when Redis does not answer.
pub fn redis_conn() -> redis::Connection {
    let url = redis_url();
    let absent = |e: &dyn std::fmt::Display| -> ! {
        panic!(
            "Redis is not answering at {url} ({e}): run scripts/services up, or point REDIS_URL \
             at a running Redis"
        )
    };
    let client = redis::Client::open(url.as_str())
        .unwrap_or_else(|e| panic!("REDIS_URL {url:?} is not a Redis URL: {e}"));
    let mut conn = client
        .get_connection_with_timeout(CONNECT)
        .unwrap_or_else(|e| absent(&e));
    conn.set_read_timeout(Some(STEP))
        .and_then(|()| conn.set_write_timeout(Some(STEP)))
        .unwrap_or_else(|e| absent(&e));
    redis::cmd("PING")
        .query::<String>(&mut conn)
        .unwrap_or_else(|e| absent(&e));
    conn
}

/// Checks that the shared RabbitMQ answers the AMQP 0-9-1 protocol header (with
/// `connection.start`; for `amqps://` a TCP connection is enough); returns its URL
/// ([`amqp_url`]).
///
/// # Panics
/// Loudly, saying how to start it, when it does not: a test needing RabbitMQ never passes
/// without it.
pub fn require_rabbit() -> String {
    let url = amqp_url();
    let (addr, tls) = amqp_host_port(&url)
        .unwrap_or_else(|| panic!("AMQP_URL {url:?} is not an amqp:// or amqps:// URL"));
    let answer = if tls {
        std::net::ToSocketAddrs::to_socket_addrs(addr.as_str()).and_then(|mut addrs| {
            let a = addrs
                .next()
                .ok_or_else(|| std::io::Error::other("no address"))?;
            std::net::TcpStream::connect_timeout(&a, CONNECT).map(drop)
        })
    } else {
        amqp_start(&addr, CONNECT).map(drop)
    };
    if let Err(e) = answer {
        panic!(
            "RabbitMQ is not answering at {url} ({e}): run scripts/services up, or point AMQP_URL \
             at a running broker"
        );
    }
    url
}

/// The `host:port` of an AMQP URL (default port 5672, 5671 for amqps), and whether it is TLS.
fn amqp_host_port(url: &str) -> Option<(String, bool)> {
    let (rest, tls) = match url.strip_prefix("amqp://") {
        Some(rest) => (rest, false),
        None => (url.strip_prefix("amqps://")?, true),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host_port = if host_port.is_empty() {
        "127.0.0.1"
    } else {
        host_port
    };
    // An IPv6 address is in brackets: `[::1]:5672`.
    let has_port = match host_port.strip_prefix('[') {
        Some(v6) => v6.contains("]:"),
        None => host_port.contains(':'),
    };
    let default = if tls { 5671 } else { 5672 };
    Some((
        if has_port {
            host_port.to_owned()
        } else {
            format!("{host_port}:{default}")
        },
        tls,
    ))
}

/// A name no other test, thread or test run uses: `<prefix>-<pid>-<time>-<n>` (the process id,
/// the time in milliseconds in hex, a counter of this process), for keys, queues, exchanges.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!(
        "{prefix}-{}-{millis:x}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Every key matching `pattern` (SCAN to the end).
///
/// # Panics
/// When SCAN fails.
pub fn scan_keys(conn: &mut redis::Connection, pattern: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query(conn)
            .expect("SCAN");
        found.extend(keys);
        if next == 0 {
            return found;
        }
        cursor = next;
    }
}

/// A file `name` holding `bytes`, in a temporary folder removed when the returned guard drops.
///
/// # Panics
/// When the folder or the file cannot be made.
pub fn temp_file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(bytes))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    (dir, path)
}

/// A new temporary folder named `<prefix><random>`, removed when dropped.
///
/// # Panics
/// When it cannot be made.
pub(crate) fn temp_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .unwrap_or_else(|e| panic!("cannot make a temporary folder: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_differ() {
        let (a, b) = (unique("test-q"), unique("test-q"));
        assert_ne!(a, b);
        assert!(
            a.starts_with(&format!("test-q-{}-", std::process::id())),
            "{a}"
        );
    }

    #[test]
    fn amqp_host_port_takes_the_authority() {
        let hp = |u| amqp_host_port(u).unwrap();
        assert_eq!(
            hp("amqp://guest:guest@127.0.0.1:5672/%2f"),
            ("127.0.0.1:5672".into(), false)
        );
        assert_eq!(hp("amqp://localhost"), ("localhost:5672".into(), false));
        assert_eq!(hp("amqps://u:p@h/vh"), ("h:5671".into(), true));
        assert_eq!(hp("amqp://"), ("127.0.0.1:5672".into(), false));
        assert_eq!(hp("amqp://[::1]/"), ("[::1]:5672".into(), false));
        assert_eq!(hp("amqp://[::1]:5673"), ("[::1]:5673".into(), false));
        assert_eq!(amqp_host_port("http://x"), None);
    }

    #[test]
    fn temp_file_holds_the_bytes() {
        let (dir, path) = temp_file("a.txt", b"abc");
        assert_eq!(std::fs::read(&path).unwrap(), b"abc");
        drop(dir);
        assert!(!path.exists());
    }

    /// The shared services must be up for the workspace's tests (`scripts/services up`).
    #[test]
    fn the_shared_services_answer() {
        let url = require_redis();
        assert!(url.starts_with("redis"));
        let mut conn = redis_conn();
        let key = unique("test-support:scan");
        redis::cmd("SET")
            .arg(&key)
            .arg(1)
            .arg("EX")
            .arg(60)
            .query::<()>(&mut conn)
            .unwrap();
        assert_eq!(scan_keys(&mut conn, &key), [key.as_str()]);
        redis::cmd("DEL").arg(&key).query::<()>(&mut conn).unwrap();
        assert!(require_rabbit().starts_with("amqp"));
    }
}
