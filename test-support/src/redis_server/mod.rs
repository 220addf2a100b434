//! [`PrivateRedis`]: a redis-server of the test's own.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::net::candidate_port;
use crate::process::{STEP, Signal};
use crate::services::temp_dir;
use crate::tls::{ClientAuth, ServerCert, TestPki};

/// How long a redis-server may take to answer after its start (2 shared cores, other tests
/// compiling).
const BOOT: Duration = Duration::from_secs(30);

/// How many candidate ports a start tries before giving up.
const ATTEMPTS: u32 = 30;

/// What redis-server logs when its port (or its cluster bus port) is taken.
const PORT_TAKEN: &str = "Address already in use";

/// A redis-server child on a port of its own (never the shared Redis), with its folder in a
/// temporary directory, no persistence, and killed (SIGKILL) when dropped, pass or fail.
///
/// The port: redis-server is started on a candidate port; when it cannot bind it (its log says
/// `Address already in use`: another process has it, or the cluster bus port `port + 10000`),
/// it is started again on another candidate. Ready means it answers PING and `INFO server`
/// names this very child's process id, so a server of someone else on the same port is never
/// taken for it.
///
/// With TLS ([`PrivateRedis::start_tls`]), it listens on its TLS port only (`--port 0
/// --tls-port <port>`), with the certificates of a [`TestPki`]; its URL is `rediss://`, and
/// [`PrivateRedis::conn`] goes over TLS (trusting the test CA, presenting `client.pem`).
///
/// ```no_run
/// let mut r = test_support::PrivateRedis::start();
/// let mut conn = r.conn();
/// redis::cmd("SET").arg("k").arg("v").query::<()>(&mut conn).unwrap();
/// r.restart(std::time::Duration::from_millis(200)); // same port, empty again
/// ```
pub struct PrivateRedis {
    port: u16,
    dir: tempfile::TempDir,
    extra: Vec<String>,
    tls: Option<RedisTls>,
    child: Option<Child>,
    /// How many times redis-server was spawned: each spawn logs to `redis-<n>.log`.
    spawns: u32,
}

/// The TLS set-up of a [`PrivateRedis`].
#[derive(Clone, Debug)]
struct RedisTls {
    pki: TestPki,
    cert: ServerCert,
    clients: ClientAuth,
}

impl RedisTls {
    /// The redis-server arguments: TLS on `port` only, replication and cluster bus over TLS too.
    fn args(&self, port: u16) -> Vec<String> {
        let (cert, key) = self.pki.server_files(self.cert);
        let path = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
        let auth = match self.clients {
            ClientAuth::No => "no",
            ClientAuth::Optional => "optional",
            ClientAuth::Required => "yes",
        };
        [
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--tls-cert-file",
            &path(cert),
            "--tls-key-file",
            &path(key),
            "--tls-ca-cert-file",
            &path(self.pki.ca()),
            "--tls-auth-clients",
            auth,
            "--tls-replication",
            "yes",
            "--tls-cluster",
            "yes",
        ]
        .map(str::to_owned)
        .to_vec()
    }
}

impl std::fmt::Debug for PrivateRedis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateRedis(127.0.0.1:{})", self.port)
    }
}

impl PrivateRedis {
    /// Starts one and waits until it answers.
    ///
    /// # Panics
    /// When redis-server is not installed, fails for another reason than a taken port (the
    /// message has its log), or is not ready in time.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Like [`PrivateRedis::start`], with more redis-server arguments (`--cluster-enabled yes`,
    /// `--maxmemory 1mb`...), given again at each restart. Not `--requirepass`: readiness is
    /// checked without a password.
    pub fn start_with(extra: &[&str]) -> Self {
        Self::launch(extra, None)
    }

    /// Starts one that speaks TLS only, with the [`ServerCert::Trusted`] certificate of `pki`
    /// (for 127.0.0.1 and localhost) and `clients` as its `--tls-auth-clients` (`no`,
    /// `optional`, `yes`); [`PrivateRedis::url`] is `rediss://127.0.0.1:<port>`.
    ///
    /// # Panics
    /// As [`PrivateRedis::start`].
    pub fn start_tls(pki: &TestPki, clients: ClientAuth) -> Self {
        Self::start_tls_with(pki, ServerCert::Trusted, clients, &[])
    }

    /// Like [`PrivateRedis::start_tls`], with the certificate `cert` ([`ServerCert::WrongName`]
    /// for a name that does not match) and more redis-server arguments (`--cluster-enabled
    /// yes`: the cluster bus and `CLUSTER SLOTS` then use the TLS port).
    pub fn start_tls_with(
        pki: &TestPki,
        cert: ServerCert,
        clients: ClientAuth,
        extra: &[&str],
    ) -> Self {
        let tls = RedisTls {
            pki: pki.clone(),
            cert,
            clients,
        };
        Self::launch(extra, Some(tls))
    }

    fn launch(extra: &[&str], tls: Option<RedisTls>) -> Self {
        let mut r = Self {
            port: 0,
            dir: temp_dir("private-redis-"),
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            tls,
            child: None,
            spawns: 0,
        };
        for _ in 0..ATTEMPTS {
            r.port = candidate_port();
            if r.boot() {
                return r;
            }
        }
        panic!(
            "redis-server found {ATTEMPTS} candidate ports taken; last log:\n{}",
            r.log()
        );
    }

    /// Its port on 127.0.0.1 (its TLS port, for a TLS server: it has no other).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>/0`; with TLS `rediss://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        if self.tls.is_some() {
            format!("rediss://127.0.0.1:{}", self.port)
        } else {
            format!("redis://127.0.0.1:{}/0", self.port)
        }
    }

    /// Whether it speaks TLS ([`PrivateRedis::start_tls`]).
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Its folder (`--dir`): its logs (`redis-<n>.log`), a cluster's `nodes.conf`...
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The process id of the running redis-server, if one runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// A connection to it; reads and writes time out after [`STEP`].
    ///
    /// # Panics
    /// When it does not take connections.
    pub fn conn(&self) -> redis::Connection {
        self.try_conn(Duration::from_secs(5), STEP)
            .unwrap_or_else(|e| panic!("private redis-server on port {}: {e}", self.port))
    }

    /// `INFO <section>`.
    ///
    /// # Panics
    /// When it does not answer.
    pub fn info(&self, section: &str) -> String {
        redis::cmd("INFO")
            .arg(section)
            .query(&mut self.conn())
            .unwrap_or_else(|e| panic!("INFO {section} on port {}: {e}", self.port))
    }

    /// Waits until it has processed at least `n` commands (`total_commands_processed`).
    ///
    /// # Panics
    /// When it has not within `within`.
    pub fn wait_commands(&self, n: u64, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let done: u64 = self
                .info("stats")
                .lines()
                .find_map(|l| l.strip_prefix("total_commands_processed:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if done >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "only {done} of {n} commands after {within:?}"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until it answers PING as itself (its own process id in `INFO server`).
    ///
    /// # Panics
    /// When it is not running, exits, or does not answer within `within`.
    pub fn wait_ready(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let Some(child) = self.child.as_mut() else {
                panic!("private redis-server on port {} is not running", self.port);
            };
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "private redis-server on port {} exited ({status}):\n{}",
                    self.port,
                    self.log()
                );
            }
            if self.answers_as_itself() {
                return;
            }
            self.next_try(
                deadline,
                Duration::from_millis(20),
                format_args!(
                    "private redis-server on port {} did not answer within {within:?}",
                    self.port
                ),
            );
        }
    }

    /// Kills it (SIGKILL) and waits until it is gone. Nothing was persisted: a restart is empty.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kills it, then starts it again on the same port after `down`, empty, and waits until it
    /// answers.
    ///
    /// # Panics
    /// When the port was taken while it was down and stays taken for 10 s (clients know the
    /// port, so no other is tried), or as [`PrivateRedis::start`].
    pub fn restart(&mut self, down: Duration) {
        self.kill();
        thread::sleep(down);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.boot() {
            self.next_try(
                deadline,
                Duration::from_millis(100),
                format_args!(
                    "port {} was taken while the private redis-server was down",
                    self.port
                ),
            );
        }
    }

    /// Pauses `pause` before the next try, or fails the test with `what` and the log once
    /// `deadline` has passed.
    fn next_try(&self, deadline: Instant, pause: Duration, what: std::fmt::Arguments<'_>) {
        assert!(Instant::now() < deadline, "{what}:\n{}", self.log());
        thread::sleep(pause);
    }

    /// Freezes it (SIGSTOP): connections stay open and nothing answers, a stalled server. Until
    /// [`PrivateRedis::resume`] (dropping it kills it anyway).
    pub fn pause(&self) {
        self.signal(Signal::Stop);
    }

    /// Lets a paused server go on (SIGCONT).
    pub fn resume(&self) {
        self.signal(Signal::Cont);
    }

    fn signal(&self, sig: Signal) {
        let child = self
            .child
            .as_ref()
            .unwrap_or_else(|| panic!("private redis-server on port {} is not running", self.port));
        crate::process::send_signal(child.id(), sig);
    }

    /// The log of the latest spawn.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path(self.spawns)).unwrap_or_default()
    }

    fn log_path(&self, n: u32) -> std::path::PathBuf {
        self.dir.path().join(format!("redis-{n}.log"))
    }

    /// Spawns redis-server on `self.port` and waits until it answers as itself: `true`; `false`
    /// when the port is taken (it exited saying so).
    fn boot(&mut self) -> bool {
        self.spawns += 1;
        let log = File::create(self.log_path(self.spawns)).expect("a log file");
        let log_err = log.try_clone().expect("a log file");
        let ports = match &self.tls {
            Some(tls) => tls.args(self.port),
            None => vec!["--port".to_owned(), self.port.to_string()],
        };
        let child = Command::new("redis-server")
            .args(&ports)
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.extra)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): install it (apt-get install redis-server, \
                     or scripts/setup)"
                )
            });
        let pid = child.id();
        self.child = Some(child);
        let deadline = Instant::now() + BOOT;
        loop {
            let child = self.child.as_mut().expect("just spawned");
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                let log = self.log();
                if log.contains(PORT_TAKEN) {
                    return false;
                }
                panic!(
                    "redis-server {} exited while starting ({status}):\n{log}",
                    self.extra.join(" ")
                );
            }
            if self.answers_as_itself() {
                return true;
            }
            if Instant::now() >= deadline {
                self.kill();
                panic!(
                    "redis-server (pid {pid}, port {}) did not answer within {BOOT:?}:\n{}",
                    self.port,
                    self.log()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the server on the port answers PING and is our child.
    fn answers_as_itself(&self) -> bool {
        let Some(pid) = self.pid() else {
            return false;
        };
        let short = Duration::from_secs(1);
        let Ok(mut conn) = self.try_conn(short, short) else {
            return false;
        };
        let Ok(info) = redis::cmd("INFO").arg("server").query::<String>(&mut conn) else {
            return false;
        };
        let theirs = info
            .lines()
            .find_map(|l| l.strip_prefix("process_id:"))
            .and_then(|v| v.trim().parse::<u32>().ok());
        theirs == Some(pid) && redis::cmd("PING").query::<String>(&mut conn).is_ok()
    }

    /// A connection; over TLS for a TLS server: trusting the test CA (any certificate for a
    /// [`ServerCert::WrongName`] server, `#insecure`), presenting `client.pem`.
    fn try_conn(&self, connect: Duration, io: Duration) -> redis::RedisResult<redis::Connection> {
        let client = match &self.tls {
            None => redis::Client::open(self.url())?,
            Some(tls) => {
                crate::tls::install_ring();
                let insecure = if tls.cert == ServerCert::WrongName {
                    "#insecure"
                } else {
                    ""
                };
                redis::Client::build_with_tls(
                    format!("rediss://127.0.0.1:{}/0{insecure}", self.port),
                    redis::TlsCertificates {
                        client_tls: Some(redis::ClientTlsConfig {
                            client_cert: tls.pki.read("client.pem"),
                            client_key: tls.pki.read("client.key"),
                        }),
                        root_cert: Some(tls.pki.read("ca.pem")),
                    },
                )?
            }
        };
        let conn = client.get_connection_with_timeout(connect)?;
        conn.set_read_timeout(Some(io))?;
        conn.set_write_timeout(Some(io))?;
        Ok(conn)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        // SIGKILL ends a paused (SIGSTOPped) server too.
        self.kill();
    }
}

#[cfg(test)]
mod tests;
