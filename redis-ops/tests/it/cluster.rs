//! `--cluster`: the lessons, set/get and bench on a PRIVATE Redis Cluster (6 redis-server
//! children on free ports, 3 masters and 3 replicas, `cluster-node-timeout` 1000 ms), and a
//! master killed in the middle of `bench` failing over to its replica.
//!
//! nextest runs every test in a process of its own, so one test builds the cluster and runs
//! every check on it in turn (one cluster start instead of one per check); a Drop guard kills
//! the six servers whatever happens.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// Six redis-server children in temp dirs; dropped: all killed.
struct Cluster {
    ports: Vec<u16>,
    nodes: Vec<Option<Child>>,
    _dirs: Vec<tempfile::TempDir>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in self.nodes.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A port `p` with `p` and the cluster bus port `p + 10000` both free.
fn cluster_port(taken: &[u16]) -> u16 {
    for _ in 0..1000 {
        let p: u16 = 20_000 + (rand_u16() % 25_000);
        if taken.contains(&p) {
            continue;
        }
        let a = std::net::TcpListener::bind(("127.0.0.1", p));
        let b = std::net::TcpListener::bind(("127.0.0.1", p + 10_000));
        if a.is_ok() && b.is_ok() {
            return p;
        }
    }
    panic!("no free port pair for a cluster node");
}

fn rand_u16() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    (nanos ^ (std::process::id() << 7)) as u16 ^ (nanos >> 16) as u16
}

fn query<T: redis::FromRedisValue>(port: u16, cmd: &redis::Cmd) -> redis::RedisResult<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/0"))?;
    let mut c = client.get_connection_with_timeout(Duration::from_secs(1))?;
    cmd.query(&mut c)
}

impl Cluster {
    fn start() -> Self {
        let mut ports = Vec::new();
        for _ in 0..6 {
            let p = cluster_port(&ports);
            ports.push(p);
        }
        let mut nodes = Vec::new();
        let mut dirs = Vec::new();
        for &p in &ports {
            let dir = tempfile::tempdir().unwrap();
            let child = Command::new("redis-server")
                .args(["--port", &p.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "1000"])
                // A replica may take over however long ago it last heard from its master.
                .args(["--cluster-replica-validity-factor", "0"])
                .args(["--cluster-config-file", "nodes.conf"])
                .args(["--dir", dir.path().to_str().unwrap()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("cannot start redis-server");
            nodes.push(Some(child));
            dirs.push(dir);
        }
        let cluster = Self {
            ports,
            nodes,
            _dirs: dirs,
        };
        for &p in &cluster.ports {
            wait_until(
                Duration::from_secs(10),
                &format!("node {p} answers"),
                || query::<String>(p, &redis::cmd("PING")).is_ok(),
            );
        }
        let addrs: Vec<String> = cluster
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create").args(&addrs).args([
            "--cluster-replicas",
            "1",
            "--cluster-yes",
        ]);
        let out = run_with(create, b"", Duration::from_mins(1));
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        cluster.wait_ok();
        cluster
    }

    /// Every live node says cluster_state:ok and sees 3 masters serving all slots (30 s).
    fn wait_ok(&self) {
        wait_until(
            Duration::from_secs(30),
            "cluster_state:ok everywhere",
            || {
                self.live_ports().all(|p| {
                    query::<String>(p, redis::cmd("CLUSTER").arg("INFO"))
                        .is_ok_and(|i| i.contains("cluster_state:ok"))
                        // Every replica synced: one that never did cannot take over.
                        && query::<String>(p, redis::cmd("INFO").arg("replication")).is_ok_and(
                            |i| i.contains("role:master") || i.contains("master_link_status:up"),
                        )
                })
            },
        );
    }

    fn live_ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.ports
            .iter()
            .zip(&self.nodes)
            .filter(|(_, c)| c.is_some())
            .map(|(p, _)| *p)
    }

    fn seeds(&self) -> String {
        self.live_ports()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The ports of the masters, from CLUSTER NODES on a live node.
    fn masters(&self) -> Vec<u16> {
        let any = self.live_ports().next().unwrap();
        let nodes: String = query(any, redis::cmd("CLUSTER").arg("NODES")).unwrap();
        nodes
            .lines()
            .filter(|l| l.contains("master") && !l.contains("fail"))
            .filter_map(|l| {
                let addr = l.split(' ').nth(1)?;
                addr.split(['@', ':']).nth(1)?.parse().ok()
            })
            .collect()
    }

    fn kill(&mut self, port: u16) {
        let i = self.ports.iter().position(|&p| p == port).unwrap();
        if let Some(mut c) = self.nodes[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `redis-ops --cluster <seeds>` ...
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = bare();
        c.arg("--cluster").arg(self.seeds()).args(args);
        c
    }
}

fn wait_until(limit: Duration, what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Keys matching `pattern` on every live master.
fn cluster_keys(c: &Cluster, pattern: &str) -> Vec<String> {
    c.masters()
        .into_iter()
        .flat_map(|p| query::<Vec<String>>(p, redis::cmd("KEYS").arg(pattern)).unwrap())
        .collect()
}

#[test]
fn lessons_set_get_and_bench_with_a_failover_on_a_cluster() {
    let mut c = Cluster::start();

    // set / get through the cluster client: the key lands on whichever master owns its slot.
    let key = unique("cluster");
    let out = run_with(c.cmd(&["set", &key, "hello"]), b"", Duration::from_secs(30));
    assert_eq!(text(&out.stdout), "OK\n", "{}", text(&out.stderr));
    let out = run_with(c.cmd(&["get", &key]), b"", Duration::from_secs(30));
    assert_eq!(text(&out.stdout), "hello", "{}", text(&out.stderr));
    assert_eq!(cluster_keys(&c, &key), vec![key.clone()]);

    // Every lesson passes on the cluster; MOVE is skipped with a note; nothing is left.
    let out = run_with(c.cmd(&["lesson", "all"]), b"", Duration::from_mins(1));
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "lesson all on the cluster failed: {}\n{stdout}",
        text(&out.stderr)
    );
    assert!(stdout.contains("all as expected"), "{stdout}");
    assert!(!stdout.contains("\n! "), "{stdout}");
    assert!(
        stdout.contains("(skipped on a cluster: MOVE key db."),
        "{stdout}"
    );
    assert!(!stdout.contains("> MOVE "), "{stdout}");
    assert!(cluster_keys(&c, "{lesson:*").is_empty());

    // bench on the healthy cluster: every request succeeds.
    let out = run_with(
        c.cmd(&[
            "bench",
            "-c",
            "10",
            "-n",
            "2000",
            "-t",
            "set,get,incr",
            "--json",
        ]),
        b"",
        Duration::from_mins(1),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for t in ["set", "get", "incr"] {
        assert_eq!(json[t]["errors"], 0, "{json}");
        assert!(json[t]["rps"].as_f64().unwrap() > 0.0, "{json}");
    }
    assert!(cluster_keys(&c, "bench:*").is_empty(), "bench keys left");

    // A master dies mid-run: its replica takes over, bench finishes, failures are counted.
    let mut bench = c.cmd(&[
        "--timeout",
        "2",
        "bench",
        "-c",
        "10",
        "-n",
        "400000",
        "-t",
        "set",
    ]);
    bench.stdout(Stdio::piped()).stderr(Stdio::piped());
    let masters = c.masters();
    assert_eq!(masters.len(), 3, "{masters:?}");
    let victim = masters[0];
    let before: u64 = {
        let info: String = query(victim, redis::cmd("INFO").arg("stats")).unwrap();
        stat(&info, "total_commands_processed")
    };
    let child = bench.spawn().unwrap();
    wait_until(
        Duration::from_secs(20),
        "bench traffic on the victim",
        || {
            let info: String = query(victim, redis::cmd("INFO").arg("stats")).unwrap_or_default();
            stat(&info, "total_commands_processed") > before + 500
        },
    );
    let killed_at = Instant::now();
    c.kill(victim);
    let out = wait_output(child, Duration::from_secs(90));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    eprintln!("failover bench (master {victim} killed):\n{stdout}{stderr}");
    assert!(out.status.success(), "{stderr}\n{stdout}");
    let completed: u64 = stdout
        .lines()
        .find(|l| l.contains(" requests completed in "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert_eq!(
        completed, 400_000,
        "every request answered or counted:\n{stdout}"
    );
    let errors = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("errors: "))
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap();
    assert!(
        errors > 0 && errors < 400_000,
        "failed operations are reported and the rest succeeded:\n{stdout}"
    );
    assert!(
        stderr.contains(&format!("SET: {errors} request(s) failed")),
        "{stderr}"
    );
    // The replica took over: three masters again, the victim not among them.
    wait_until(Duration::from_secs(30), "a replica promoted", || {
        let m = c.masters();
        m.len() == 3 && !m.contains(&victim)
    });
    c.wait_ok();
    assert!(cluster_keys(&c, "bench:*").is_empty(), "bench keys left");
    eprintln!(
        "failover: cluster ok again {:.1}s after the kill",
        killed_at.elapsed().as_secs_f64()
    );
}

fn stat(info: &str, name: &str) -> u64 {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}
