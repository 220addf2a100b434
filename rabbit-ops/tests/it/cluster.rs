//! A three-node cluster of private nodes (never the shared broker): 1,000 tasks on a quorum
//! queue, three workers and a confirming publisher given every node's URL, one node stopped
//! mid-run. Zero tasks lost; the ones done twice are counted and reported.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use test_support::{ErlangHome, Proc, RabbitNode, STEP};

use crate::support::{bin, tally, worker_tasks};

const WAITING: &str = " [*] Waiting for messages. To exit press CTRL+C";

fn rabbit_ops(urls: &[&str], args: &[&str]) -> Command {
    let mut c = bin();
    for u in urls {
        c.arg("--url").arg(u);
    }
    c.args(args);
    c
}

#[test]
fn quorum_queue_loses_nothing_when_a_node_stops() {
    let started = Instant::now();
    let home = ErlangHome::new();
    let mut n1 = RabbitNode::start(&home);
    let mut n2 = RabbitNode::start(&home);
    let mut n3 = RabbitNode::start(&home);
    n1.wait_ready(RabbitNode::BOOT);
    n2.wait_ready(RabbitNode::BOOT);
    n3.wait_ready(RabbitNode::BOOT);
    n2.join(&n1);
    n3.join(&n1);
    let booted = started.elapsed();
    let (u1, u2, u3) = (n1.url(), n2.url(), n3.url());

    let q = "tasks";
    let worker = ["worker", "--quorum", "--queue", q, "--dot-ms", "5"];
    // Each worker starts on another node; the one on node 2 loses it.
    let mut workers: Vec<Proc> = [[&u2, &u3, &u1], [&u3, &u1, &u2], [&u1, &u2, &u3]]
        .iter()
        .map(|urls| {
            let urls: Vec<&str> = urls.iter().map(|u| u.as_str()).collect();
            let mut p = Proc::spawn(&mut rabbit_ops(&urls, &worker));
            p.expect_line(WAITING);
            p
        })
        .collect();
    let (mut publisher, mut stdin) = Proc::spawn_with_stdin(&mut rabbit_ops(
        &[&u2, &u1, &u3],
        &[
            "new-task",
            "--quorum",
            "--stdin",
            "--queue",
            q,
            "--retry-for",
            "60",
        ],
    ));
    let expected: Vec<String> = (1..=1000).map(|i| format!("t-{i:04}.")).collect();
    let feed = |stdin: &mut std::process::ChildStdin, lines: &[String]| {
        stdin
            .write_all(format!("{}\n", lines.join("\n")).as_bytes())
            .unwrap();
    };
    feed(&mut stdin, &expected[..500]);
    let deadline = Instant::now() + STEP;
    while publisher.seen().len() < 500 {
        assert!(Instant::now() < deadline, "{:?}", publisher.seen().len());
        publisher.next_line(Duration::from_millis(50));
    }
    // Node 2 (the publisher's and worker 0's) stops while the workers are busy.
    let stop_at = Instant::now();
    n2.stop();
    let stopped_in = stop_at.elapsed();
    feed(&mut stdin, &expected[500..]);
    drop(stdin);

    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let lists: Vec<Vec<String>> = workers.iter().map(|w| worker_tasks(w.seen()).0).collect();
        let refs: Vec<&[String]> = lists.iter().map(Vec::as_slice).collect();
        let (_, missing) = tally(&expected, &refs);
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} tasks not done after 90 s, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        for w in &mut workers {
            while w.next_line(Duration::from_millis(5)).is_some() {}
        }
    }
    let published = publisher.finish(Duration::from_mins(1));
    assert_eq!(published.code(), Some(0), "{published:?}");
    assert_eq!(published.lines().len(), 1000);
    assert!(
        published.stderr.contains("reconnected to"),
        "{}",
        published.stderr
    );

    let mut runs = Vec::new();
    for (i, mut w) in workers.into_iter().enumerate() {
        w.interrupt();
        let r = w.finish(STEP);
        assert_eq!(r.code(), Some(0), "worker {i}: {r:?}");
        if i == 0 {
            assert!(r.stderr.contains("reconnected to"), "{}", r.stderr);
        }
        runs.push(worker_tasks(&r.lines()).0);
    }
    let refs: Vec<&[String]> = runs.iter().map(Vec::as_slice).collect();
    let (duplicates, missing) = tally(&expected, &refs);
    assert!(missing.is_empty(), "lost: {missing:?}");
    // Nothing left behind on the surviving nodes.
    let out = n1.ctl(&[
        "list_queues",
        "-q",
        "--no-table-headers",
        "name",
        "messages",
    ]);
    let left = String::from_utf8_lossy(&out.stdout);
    assert!(
        left.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == [q, "0"]),
        "queue '{q}' should be empty: {left}"
    );
    println!(
        "3-node cluster booted and joined in {:.1}s; node 2 stopped in {:.1}s mid-run; 1000 \
         tasks: 0 lost, {duplicates} done twice; per worker {:?}; whole test {:.1}s",
        booted.as_secs_f64(),
        stopped_in.as_secs_f64(),
        runs.iter().map(Vec::len).collect::<Vec<_>>(),
        started.elapsed().as_secs_f64()
    );
}
