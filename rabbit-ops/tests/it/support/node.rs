//! Private RabbitMQ nodes for the tests that stop, restart or cluster a broker: never the shared
//! broker on 127.0.0.1:5672. Each node has its own name (`lessons-test-<pid>-<n>@localhost`),
//! its own AMQP and distribution ports (free ones, picked now), its own data, log and config in
//! a temporary directory, no plugins (so nothing grabs 15672), and it is stopped (then killed,
//! if need be) when dropped, pass or fail.
//!
//! The RabbitMQ scripts are run straight from their folder (`/usr/lib/rabbitmq/bin` on
//! Debian), not through the `/usr/sbin` wrappers that switch to the `rabbitmq` user: the node
//! runs as the test's user, with `HOME` in the temporary directory, where the Erlang cookie
//! shared by the node and `rabbitmqctl` lives.

#![allow(dead_code)]

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a node may take to boot (2 shared cores, other tests compiling).
pub const BOOT: Duration = Duration::from_mins(2);

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

/// A free port in 20000-29999 (below the ephemeral range; the CLI's own distribution ports are
/// this + 10000, still in range).
fn free_port(taken: &[u16]) -> u16 {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
        ^ std::process::id().rotate_left(13);
    for i in 0..10_000u32 {
        let port =
            20_000 + u16::try_from((seed.wrapping_add(i.wrapping_mul(7919))) % 10_000).unwrap();
        if taken.contains(&port) {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", port)).is_ok()
            && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok()
        {
            return port;
        }
    }
    panic!("no free port in 20000-29999");
}

/// A temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(what: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "lessons-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("cannot create a temporary directory");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A `HOME` with an Erlang cookie: nodes sharing one can cluster, and `rabbitmqctl` can reach
/// them.
pub struct Home(TempDir);

impl Home {
    pub fn new() -> Self {
        let dir = TempDir::new("rabbit-home");
        let cookie = dir.0.join(".erlang.cookie");
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        fs::write(
            &cookie,
            format!("LESSONSTEST{nanos:X}{}", std::process::id()),
        )
        .unwrap();
        fs::set_permissions(&cookie, fs::Permissions::from_mode(0o400)).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0.0
    }
}

/// One private node.
pub struct Node {
    pub name: String,
    pub port: u16,
    pub dist_port: u16,
    home: PathBuf,
    dir: TempDir,
    child: Option<Child>,
}

impl Node {
    /// Starts a node (it boots in the background: [`Node::wait_ready`]).
    pub fn start(home: &Home, taken: &[u16]) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "lessons-test-{}-{}@localhost",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let port = free_port(taken);
        let mut also = taken.to_vec();
        also.push(port);
        let dist_port = free_port(&also);
        let dir = TempDir::new("rabbit-node");
        let d = &dir.0;
        fs::write(d.join("enabled_plugins"), "[].\n").unwrap();
        fs::write(d.join("rabbitmq-env.conf"), "").unwrap();
        fs::write(
            d.join("rabbitmq.conf"),
            format!(
                "listeners.tcp.1 = 127.0.0.1:{port}\nloopback_users.guest = true\n\
                 log.console = false\nlog.file.level = warning\n"
            ),
        )
        .unwrap();
        let out = fs::File::create(d.join("server.out")).unwrap();
        let err = out.try_clone().unwrap();
        let mut cmd = Command::new(scripts_dir().join("rabbitmq-server"));
        node_env(&mut cmd, home.path(), d, &name, port, dist_port);
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd.spawn().expect("cannot start rabbitmq-server");
        Self {
            name,
            port,
            dist_port,
            home: home.path().to_owned(),
            dir,
            child: Some(child),
        }
    }

    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// Waits until the node takes AMQP connections.
    pub fn wait_ready(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        let broker = rabbit_ops::Broker::new(&self.url(), Duration::from_secs(2)).unwrap();
        loop {
            if let Ok(c) = broker.connect() {
                let _ = c.close();
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "rabbitmq-server {} exited while booting ({status}): {}",
                    self.name,
                    self.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "node {} did not take AMQP connections within {within:?}: {}",
                self.name,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until nothing answers on the node's AMQP port.
    pub fn wait_closed(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "port {} still open", self.port);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_tail(&self) -> String {
        let text = fs::read_to_string(self.dir.0.join("server.out")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// `rabbitmqctl -n <node> args...` (bounded by `timeout`); panics when it fails.
    pub fn ctl(&self, args: &[&str]) -> Output {
        let out = self.try_ctl(args, Duration::from_secs(90));
        assert!(
            out.status.success(),
            "rabbitmqctl -n {} {args:?} failed: {}{}",
            self.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn try_ctl(&self, args: &[&str], within: Duration) -> Output {
        let mut cmd = Command::new("timeout");
        cmd.arg(within.as_secs().to_string())
            .arg(scripts_dir().join("rabbitmqctl"))
            .arg("-n")
            .arg(&self.name)
            .args(args);
        node_env(
            &mut cmd,
            &self.home,
            &self.dir.0,
            &self.name,
            self.port,
            self.dist_port,
        );
        cmd.stdin(Stdio::null())
            .output()
            .expect("cannot run rabbitmqctl")
    }

    /// Stops the RabbitMQ application (connections close, the port closes); the VM stays.
    pub fn stop_app(&self) {
        self.ctl(&["stop_app"]);
    }

    /// Starts the application again and waits until it takes connections.
    pub fn start_app(&mut self) {
        self.ctl(&["start_app"]);
        self.wait_ready(BOOT);
    }

    /// Joins the cluster of `other` (stop_app, join_cluster, start_app).
    pub fn join(&mut self, other: &Node) {
        self.ctl(&["stop_app"]);
        self.ctl(&["join_cluster", &other.name]);
        self.start_app();
    }

    /// Stops the whole node (VM included) and reaps it.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = self.try_ctl(&["stop"], Duration::from_secs(30));
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Whatever is left of the node's process group (the VM, epmd is not in it).
        let pgid = child.id().to_string();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .stderr(Stdio::null())
            .status();
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

fn node_env(cmd: &mut Command, home: &Path, dir: &Path, name: &str, port: u16, dist_port: u16) {
    cmd.env("HOME", home)
        .env("RABBITMQ_NODENAME", name)
        .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
        .env("RABBITMQ_NODE_PORT", port.to_string())
        .env("RABBITMQ_DIST_PORT", dist_port.to_string())
        .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
        .env("RABBITMQ_LOG_BASE", dir.join("log"))
        .env("RABBITMQ_PID_FILE", dir.join("node.pid"))
        .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins"))
        .env("RABBITMQ_CONF_ENV_FILE", dir.join("rabbitmq-env.conf"))
        .env("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq.conf"))
        .env("ERL_EPMD_ADDRESS", "127.0.0.1")
        .env("ERL_FLAGS", "-kernel inet_dist_use_interface {127,0,0,1}")
        .env_remove("RABBITMQ_CONFIG_FILES")
        .env_remove("RABBITMQ_ADVANCED_CONFIG_FILE");
}
