//! [`RabbitNode`]: private RabbitMQ nodes for the tests that stop, restart or cluster a broker,
//! never the shared broker on 127.0.0.1:5672.
//!
//! Each node has its own name (`lessons-test-<pid>-<n>@localhost`), its own AMQP and
//! distribution ports, its own data, logs and config in a temporary folder, no plugins (so
//! nothing grabs 15672), and it is stopped (then killed, if need be) when dropped, pass or fail.
//!
//! The RabbitMQ scripts are run straight from their folder (`/usr/lib/rabbitmq/bin` on Debian,
//! or `$RABBITMQ_SCRIPTS_DIR`), not through the `/usr/sbin` wrappers that switch to the
//! `rabbitmq` user: the node runs as the test's user, with `HOME` in an [`ErlangHome`], where the
//! Erlang cookie shared by the nodes and `rabbitmqctl` lives.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};

use crate::net::{amqp_start, candidate_port};
use crate::process::{Proc, Run};
use crate::services::temp_dir;
use crate::tls::{ClientAuth, ServerCert, TestPki};

mod home;
mod ssl;

pub use home::ErlangHome;
use ssl::RabbitTls;

/// How many times a node is started on other ports because its own were taken.
const ATTEMPTS: u32 = 8;

/// One private RabbitMQ node. [`RabbitNode::start`] returns at once, the node booting in the
/// background (several nodes boot in parallel); [`RabbitNode::wait_ready`] waits for it.
///
/// Its ports: the node is started on candidate ports (20000-29999); when it fails to bind one
/// (another process has it), [`RabbitNode::wait_ready`] starts it again on others, so read
/// [`RabbitNode::port`] and [`RabbitNode::url`] after `wait_ready`. Its first readiness is
/// checked against its name (the `cluster_name` of its `connection.start`), so another broker
/// on the same port is never taken for it.
///
/// With TLS ([`RabbitNode::start_tls`]) it has an SSL listener too, on a port of its own
/// ([`RabbitNode::ssl_port`], [`RabbitNode::amqps_url`]), with the certificates of a
/// [`TestPki`](crate::TestPki); it is ready when both listeners answer (the SSL one checked
/// with a real TLS handshake against the test CA).
///
/// ```no_run
/// use test_support::{ErlangHome, RabbitNode};
/// let home = ErlangHome::new();
/// let (mut a, mut b) = (RabbitNode::start(&home), RabbitNode::start(&home));
/// a.wait_ready(RabbitNode::BOOT);
/// b.wait_ready(RabbitNode::BOOT);
/// b.join(&a);
/// let url = a.url();
/// ```
pub struct RabbitNode {
    name: String,
    port: u16,
    dist_port: u16,
    home: ErlangHome,
    tls: Option<RabbitTls>,
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// Seen answering as itself once: later readiness checks only need an answer.
    verified: bool,
    /// How many times rabbitmq-server was spawned: each spawn logs to `server-<n>.out`.
    spawns: u32,
}

impl std::fmt::Debug for RabbitNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RabbitNode({} on 127.0.0.1:{})", self.name, self.port)
    }
}

impl RabbitNode {
    /// How long a node may take to boot (2 shared cores, other tests compiling).
    pub const BOOT: Duration = Duration::from_mins(2);

    /// How long a `rabbitmqctl` command may take ([`RabbitNode::ctl`]).
    pub const CTL: Duration = Duration::from_secs(90);

    /// Starts a node with the cookie of `home`; it boots in the background.
    ///
    /// # Panics
    /// When RabbitMQ is not installed or cannot start.
    pub fn start(home: &ErlangHome) -> Self {
        Self::launch(home, None)
    }

    fn launch(home: &ErlangHome, tls: Option<RabbitTls>) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "lessons-test-{}-{}@localhost",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut node = Self {
            name,
            port: 0,
            dist_port: 0,
            home: home.clone(),
            tls,
            dir: temp_dir("rabbit-node-"),
            child: None,
            verified: false,
            spawns: 0,
        };
        node.pick_ports();
        node.spawn();
        node
    }

    /// Its Erlang node name, `lessons-test-<pid>-<n>@localhost`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its AMQP port on 127.0.0.1 (final once [`RabbitNode::wait_ready`] has returned).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its Erlang distribution port.
    pub fn dist_port(&self) -> u16 {
        self.dist_port
    }

    /// `amqp://guest:guest@127.0.0.1:<port>/%2f`.
    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// Its folder: config, data (`mnesia`), logs (`log`, `server-<n>.out`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Waits until the node answers AMQP; restarts it on other ports when its own were taken.
    ///
    /// # Panics
    /// When it is not running, exits for another reason, or is not ready within `within` (the
    /// message has the end of its log).
    pub fn wait_ready(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        let me = format!("{}@", self.name.split('@').next().unwrap_or_default());
        loop {
            let Some(child) = self.child.as_mut() else {
                panic!("node {} is not running", self.name);
            };
            if let Ok(Some(status)) = child.try_wait() {
                let out = self.server_out();
                let taken = out.contains("eaddrinuse") || out.contains("dist_port_already_used");
                if taken && !self.verified && self.spawns < ATTEMPTS {
                    self.respawn();
                    continue;
                }
                panic!(
                    "rabbitmq-server {} exited while booting ({status}):\n{}",
                    self.name,
                    self.log_tail(15)
                );
            }
            let answer = amqp_start(&format!("127.0.0.1:{}", self.port), Duration::from_secs(2));
            if let Ok(start) = answer
                && (self.verified || contains(&start, me.as_bytes()))
            {
                if self.ssl_answers(me.as_bytes()) {
                    self.verified = true;
                    return;
                }
                // A taken SSL port does not stop the node: it runs without that listener.
                if !self.verified && self.ssl_port_taken() && self.spawns < ATTEMPTS {
                    self.respawn();
                    continue;
                }
            }
            assert!(
                Instant::now() < deadline,
                "node {} did not take AMQP connections on port {} within {within:?}:\n{}",
                self.name,
                self.port,
                self.log_tail(15)
            );
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until nothing answers on its AMQP port.
    ///
    /// # Panics
    /// When something still does after `within`.
    pub fn wait_closed(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "port {} still open after {within:?}",
                self.port
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// `rabbitmqctl -n <node> args...`, within [`RabbitNode::CTL`].
    ///
    /// # Panics
    /// When it fails or does not finish in time, with its output.
    pub fn ctl(&self, args: &[&str]) -> Run {
        let out = self.try_ctl(args, Self::CTL);
        assert!(
            out.success(),
            "rabbitmqctl -n {} {args:?} failed: {out:?}",
            self.name
        );
        out
    }

    /// `rabbitmqctl -n <node> args...`, killed after `within`; whatever it did (a command
    /// killed at the deadline ends with SIGKILL).
    pub fn try_ctl(&self, args: &[&str], within: Duration) -> Run {
        let mut cmd = Command::new(scripts_dir().join("rabbitmqctl"));
        cmd.arg("-n").arg(&self.name).args(args);
        self.node_env(&mut cmd);
        Proc::spawn(&mut cmd).finish_or_kill(within)
    }

    /// Stops the RabbitMQ application (connections close, the port closes); the VM stays.
    pub fn stop_app(&self) {
        self.ctl(&["stop_app"]);
    }

    /// Starts the application again and waits until it takes connections.
    pub fn start_app(&mut self) {
        self.ctl(&["start_app"]);
        self.wait_ready(Self::BOOT);
    }

    /// Joins the cluster of `other` (stop_app, join_cluster, start_app); both nodes need the
    /// same [`ErlangHome`].
    pub fn join(&mut self, other: &RabbitNode) {
        self.ctl(&["stop_app"]);
        self.ctl(&["join_cluster", &other.name]);
        self.start_app();
    }

    /// Stops the whole node (VM included; `rabbitmqctl stop`, then SIGKILL to what is left of
    /// its process group after 20 s) and reaps it. Also done when dropped.
    pub fn stop(&mut self) {
        if self.child.is_none() {
            return;
        }
        let _ = self.try_ctl(&["stop"], Duration::from_secs(30));
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(Ok(Some(_))) = self.child.as_mut().map(Child::try_wait) {
                break;
            }
            thread::sleep(Duration::from_millis(100));
        }
        self.kill_group();
    }

    /// The last `lines` lines of what the node printed since its latest start.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = self.server_out();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn server_out(&self) -> String {
        fs::read_to_string(self.dir.path().join(format!("server-{}.out", self.spawns)))
            .unwrap_or_default()
    }

    fn pick_ports(&mut self) {
        self.port = candidate_port();
        self.dist_port = loop {
            let p = candidate_port();
            if p != self.port {
                break p;
            }
        };
        let taken = [self.port, self.dist_port];
        if let Some(tls) = &mut self.tls {
            tls.port = loop {
                let p = candidate_port();
                if !taken.contains(&p) {
                    break p;
                }
            };
        }
    }

    /// Writes the config for the current ports (over a fresh data folder) and starts the node.
    fn spawn(&mut self) {
        self.spawns += 1;
        let d = self.dir.path();
        let _ = fs::remove_dir_all(d.join("mnesia"));
        let _ = fs::remove_dir_all(d.join("log"));
        let write = |name: &str, text: &str| {
            fs::write(d.join(name), text).unwrap_or_else(|e| panic!("cannot write {name}: {e}"));
        };
        write("enabled_plugins", "[].\n");
        write("rabbitmq-env.conf", "");
        let ssl = self.tls.as_ref().map(RabbitTls::conf).unwrap_or_default();
        write(
            "rabbitmq.conf",
            &format!(
                "listeners.tcp.1 = 127.0.0.1:{}\nloopback_users.guest = true\n\
                 log.console = false\nlog.file.level = warning\n{ssl}",
                self.port
            ),
        );
        let out =
            fs::File::create(d.join(format!("server-{}.out", self.spawns))).expect("a log file");
        let err = out.try_clone().expect("a log file");
        let mut cmd = Command::new(scripts_dir().join("rabbitmq-server"));
        self.node_env(&mut cmd);
        cmd.current_dir(d)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // A group of its own: stop() kills the VM with the script.
            .process_group(0);
        self.child = Some(
            cmd.spawn()
                .unwrap_or_else(|e| panic!("cannot start rabbitmq-server: {e}")),
        );
    }

    /// Kills the node and starts it again on other ports (its own were taken).
    fn respawn(&mut self) {
        self.kill_group();
        self.pick_ports();
        self.spawn();
    }

    /// SIGKILL to the node's process group (the VM; epmd is not in it), and reaps it.
    fn kill_group(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = kill_process_group(Pid::from_child(&child), Signal::KILL);
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn node_env(&self, cmd: &mut Command) {
        let d = self.dir.path();
        cmd.env("HOME", self.home.path())
            .env("RABBITMQ_NODENAME", &self.name)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", d.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", d.join("log"))
            .env("RABBITMQ_PID_FILE", d.join("node.pid"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", d.join("enabled_plugins"))
            .env("RABBITMQ_CONF_ENV_FILE", d.join("rabbitmq-env.conf"))
            .env("RABBITMQ_CONFIG_FILE", d.join("rabbitmq.conf"))
            .env("ERL_CRASH_DUMP", d.join("erl_crash.dump"))
            .env("ERL_EPMD_ADDRESS", "127.0.0.1")
            .env("ERL_FLAGS", "-kernel inet_dist_use_interface {127,0,0,1}")
            .env_remove("RABBITMQ_CONFIG_FILES")
            .env_remove("RABBITMQ_ADVANCED_CONFIG_FILE");
    }

    /// Starts a node with an SSL listener besides its AMQP one: the [`ServerCert::Trusted`]
    /// certificate of `pki` (for 127.0.0.1 and localhost), and `clients` saying what it asks of
    /// client certificates. It boots in the background, as [`RabbitNode::start`].
    ///
    /// # Panics
    /// As [`RabbitNode::start`].
    pub fn start_tls(home: &ErlangHome, pki: &TestPki, clients: ClientAuth) -> Self {
        Self::start_tls_with(home, pki, ServerCert::Trusted, clients)
    }

    /// Like [`RabbitNode::start_tls`], with the certificate `cert` ([`ServerCert::WrongName`]
    /// for a name that does not match).
    pub fn start_tls_with(
        home: &ErlangHome,
        pki: &TestPki,
        cert: ServerCert,
        clients: ClientAuth,
    ) -> Self {
        Self::launch(home, Some(RabbitTls::new(pki, cert, clients)))
    }

    /// Its SSL (AMQPS) port on 127.0.0.1 (final once [`RabbitNode::wait_ready`] has returned).
    ///
    /// # Panics
    /// When the node was started without TLS.
    pub fn ssl_port(&self) -> u16 {
        self.tls_setup().port
    }

    /// `amqps://guest:guest@127.0.0.1:<ssl port>/%2f`.
    ///
    /// # Panics
    /// When the node was started without TLS.
    pub fn amqps_url(&self) -> String {
        format!("amqps://guest:guest@127.0.0.1:{}/%2f", self.ssl_port())
    }

    fn tls_setup(&self) -> &RabbitTls {
        self.tls
            .as_ref()
            .unwrap_or_else(|| panic!("node {} was started without TLS", self.name))
    }

    /// Whether its SSL listener (if it has one) finishes a verified TLS handshake and answers
    /// AMQP as this node.
    fn ssl_answers(&self, me: &[u8]) -> bool {
        self.tls
            .as_ref()
            .is_none_or(|tls| tls.start().is_ok_and(|start| contains(&start, me)))
    }

    /// Whether its log says its SSL listener could not bind its port.
    fn ssl_port_taken(&self) -> bool {
        let log = self
            .dir
            .path()
            .join("log")
            .join(format!("{}.log", self.name));
        self.tls.as_ref().is_some_and(|tls| tls.port_taken(&log))
    }
}

impl Drop for RabbitNode {
    fn drop(&mut self) {
        self.stop();
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Where `rabbitmq-server` and `rabbitmqctl` are (the real scripts, not the su wrappers).
fn scripts_dir() -> PathBuf {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("RABBITMQ_SCRIPTS_DIR") {
        candidates.push(d.into());
    }
    candidates.push("/usr/lib/rabbitmq/bin".into());
    if let Ok(p) = fs::canonicalize("/usr/sbin/rabbitmq-server")
        && let Some(d) = p.parent()
    {
        candidates.push(d.to_owned());
    }
    candidates
        .into_iter()
        .find(|d| d.join("rabbitmq-server").is_file() && d.join("rabbitmqctl").is_file())
        .expect(
            "these tests start private RabbitMQ nodes: install rabbitmq-server \
             (scripts/services up does) or set RABBITMQ_SCRIPTS_DIR",
        )
}

#[cfg(test)]
mod tests;
