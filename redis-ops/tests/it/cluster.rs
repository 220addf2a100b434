//! `--cluster`: the lessons, set/get and bench on a PRIVATE Redis Cluster (6 redis-servers of
//! the test's own, 3 masters and 3 replicas, `cluster-node-timeout` 1000 ms), and a master
//! killed in the middle of `bench` failing over to its replica.
//!
//! nextest runs every test in a process of its own, so one test builds the cluster and runs
//! every check on it in turn (one cluster start instead of one per check); the six servers are
//! killed whatever happens.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

/// Six redis-servers of the test's own (`PrivateRedis`: own ports, own folders, killed when
/// dropped), joined into a cluster.
pub struct Cluster {
    nodes: Vec<PrivateRedis>,
    /// The ports of the nodes killed on purpose.
    dead: Vec<u16>,
}

fn query<T: redis::FromRedisValue>(port: u16, cmd: &redis::Cmd) -> redis::RedisResult<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/0"))?;
    let mut c = client.get_connection_with_timeout(Duration::from_secs(1))?;
    c.set_read_timeout(Some(STEP))?;
    cmd.query(&mut c)
}

/// The redis-server arguments of a cluster node (the bus port, `port + 10000`, must be free
/// too: `PrivateRedis` moves to another port when it is not).
pub const NODE: [&str; 8] = [
    "--cluster-enabled",
    "yes",
    "--cluster-node-timeout",
    "1000",
    // A replica may take over however long ago it last heard from its master.
    "--cluster-replica-validity-factor",
    "0",
    "--cluster-config-file",
    "nodes.conf",
];

impl Cluster {
    pub fn start() -> Self {
        let nodes: Vec<PrivateRedis> = (0..6).map(|_| PrivateRedis::start_with(&NODE)).collect();
        let cluster = Self {
            nodes,
            dead: Vec::new(),
        };
        let addrs: Vec<String> = cluster
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create").args(&addrs).args([
            "--cluster-replicas",
            "1",
            "--cluster-yes",
        ]);
        let out = run_with(&mut create, b"", Duration::from_mins(1));
        assert!(out.success(), "redis-cli --cluster create failed: {out:?}");
        cluster.wait_ok();
        cluster
    }

    /// Every live node says cluster_state:ok and sees 3 masters serving all slots (30 s).
    pub fn wait_ok(&self) {
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
        self.nodes
            .iter()
            .map(PrivateRedis::port)
            .filter(|p| !self.dead.contains(p))
    }

    pub fn seeds(&self) -> String {
        self.live_ports()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The ports of the masters, from CLUSTER NODES on a live node.
    pub fn masters(&self) -> Vec<u16> {
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
        let node = self.nodes.iter_mut().find(|n| n.port() == port).unwrap();
        node.kill();
        self.dead.push(port);
    }

    /// `redis-ops --cluster <seeds>` ...
    pub fn cmd(&self, args: &[&str]) -> Command {
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
fn lessons_set_get_bench_and_ping_with_a_failover_on_a_cluster() {
    let mut c = Cluster::start();

    // set / get through the cluster client: the key lands on whichever master owns its slot.
    let key = unique("cluster");
    let out = run_with(
        &mut c.cmd(&["set", &key, "hello"]),
        b"",
        Duration::from_secs(30),
    );
    assert_eq!(text(&out.stdout), "OK\n", "{}", text(&out.stderr));
    let out = run_with(&mut c.cmd(&["get", &key]), b"", Duration::from_secs(30));
    assert_eq!(text(&out.stdout), "hello", "{}", text(&out.stderr));
    assert_eq!(cluster_keys(&c, &key), vec![key.clone()]);

    // Every lesson passes on the cluster; MOVE is skipped with a note; nothing is left.
    let out = run_with(&mut c.cmd(&["lesson", "all"]), b"", Duration::from_mins(1));
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

    // Issue 22: a killed lesson's keys (and marker) on its master are swept by the next run.
    let mut killed = Proc::spawn(&mut c.cmd(&["lesson", "lists", "--pause", "100"]));
    killed.wait_for_line(|l| l.starts_with("> LRANGE"), STEP);
    killed.kill();
    let left = cluster_keys(&c, "{lesson:*");
    assert!(!left.is_empty(), "the kill should have left keys");
    assert_eq!(cluster_keys(&c, "lesson-run:*").len(), 1, "its marker");
    let out = run_with(&mut c.cmd(&["lesson", "sets"]), b"", Duration::from_mins(1));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().nth(1),
        Some(
            format!(
                "# removed {} key(s) left by 1 interrupted run(s)",
                left.len()
            )
            .as_str()
        ),
        "{stdout}"
    );
    assert!(cluster_keys(&c, "{lesson:*").is_empty());
    assert!(cluster_keys(&c, "lesson-run:*").is_empty());

    // bench on the healthy cluster: every request succeeds.
    let out = run_with(
        &mut c.cmd(&[
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

    // ping: the round trip reaches every master (a SET on each), and leaves no key.
    let sets = |c: &Cluster| -> Vec<u64> {
        c.masters()
            .into_iter()
            .map(|p| {
                let info: String = query(p, redis::cmd("INFO").arg("commandstats")).unwrap();
                info.lines()
                    .find_map(|l| l.strip_prefix("cmdstat_set:calls="))
                    .and_then(|v| v.split(',').next()?.parse().ok())
                    .unwrap_or(0)
            })
            .collect()
    };
    let before = sets(&c);
    let out = run_with(&mut c.cmd(&["ping"]), b"", Duration::from_secs(30));
    assert!(out.success(), "{out:?}");
    assert!(
        out.stdout_text()
            .contains(", cluster of 3 masters, round trip "),
        "{out:?}"
    );
    let after = sets(&c);
    assert!(
        before.iter().zip(&after).all(|(b, a)| a > b),
        "a SET on every master: {before:?} -> {after:?}"
    );
    assert!(
        cluster_keys(&c, "redis-ops:ping:*").is_empty(),
        "ping keys left"
    );

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
    let masters = c.masters();
    assert_eq!(masters.len(), 3, "{masters:?}");
    let victim = masters[0];
    let before: u64 = {
        let info: String = query(victim, redis::cmd("INFO").arg("stats")).unwrap();
        stat(&info, "total_commands_processed")
    };
    let child = Proc::spawn(&mut bench);
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
    let out = child.finish(Duration::from_secs(90));
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
