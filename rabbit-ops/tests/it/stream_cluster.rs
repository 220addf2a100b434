//! Issue 20, nothing lost: a three-node cluster of private nodes serving streams (never the
//! shared broker). A replicated stream gets 1,000 confirmed messages; a named consumer stores its
//! offset after 400 of them; the node of the stream's leader stops. Every confirmed message is
//! still read from the other nodes, and the consumer resumes from its stored offset with no gap;
//! the messages it gets twice (at-least-once) are counted and reported.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use rabbit_ops::streams::{Endpoint, StreamUrl};
use test_support::{ErlangHome, RabbitNode, Run};

use crate::support::{bin, run};

fn rabbit_ops(urls: &[&str], args: &[&str]) -> Command {
    let mut c = bin();
    c.env_remove("RABBITMQ_STREAM_URL");
    for u in urls {
        c.arg("--url").arg(u);
    }
    c.args(args);
    c
}

/// The offsets of the `Got message: <body> with offset: <n>` lines, with their bodies.
fn offsets(r: &Run) -> Vec<(u64, String)> {
    r.lines()
        .iter()
        .filter_map(|l| {
            let rest = l.strip_prefix("Got message: ")?;
            let (body, offset) = rest.rsplit_once(" with offset: ")?;
            Some((offset.parse().ok()?, body.to_owned()))
        })
        .collect()
}

/// The leader and replicas of `stream` (`host:port`) as `url`'s node advertises them.
fn placement(url: &str, stream: &str) -> Option<Vec<String>> {
    let endpoint = Endpoint {
        url: StreamUrl::parse(url).unwrap(),
        tls: None,
        timeout: Duration::from_secs(10),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(endpoint.metadata(stream)).ok().flatten()
}

fn body(i: u64) -> String {
    if i == 999 {
        format!("marker{i}")
    } else {
        format!("hello{i}")
    }
}

#[test]
fn a_replicated_stream_loses_nothing_when_its_leader_stops() {
    let home = ErlangHome::new();
    let mut nodes = [
        RabbitNode::start_streams(&home),
        RabbitNode::start_streams(&home),
        RabbitNode::start_streams(&home),
    ];
    for n in &mut nodes {
        n.wait_ready(RabbitNode::BOOT);
    }
    let [n1, n2, n3] = &mut nodes;
    n2.join(n1);
    n3.join(n1);
    let urls: Vec<String> = nodes.iter().map(RabbitNode::stream_url).collect();
    let all: Vec<&str> = urls.iter().map(String::as_str).collect();
    // Every node's stream port answers (the plugin may start after the AMQP listener).
    run(rabbit_ops(&all, &["ping", "--wait", "60"])).assert_success();

    let stream = "orders";
    let r = run(rabbit_ops(
        &[all[0]],
        &[
            "offset-tracking-send",
            "--stream",
            stream,
            "--messages",
            "1000",
        ],
    ));
    r.assert_success();
    assert_eq!(
        r.lines(),
        ["Publishing 1000 messages", "Messages confirmed."]
    );
    let r = run(rabbit_ops(
        &[all[0]],
        &[
            "offset-tracking-receive",
            "--stream",
            stream,
            "--name",
            "billing",
            "--count",
            "400",
        ],
    ));
    r.assert_success();
    let first: Vec<u64> = offsets(&r).iter().map(|(o, _)| *o).collect();
    assert_eq!(first, (0..400).collect::<Vec<_>>(), "{r:?}");

    // Three copies: the leader and two replicas; the leader's node stops.
    let placed = placement(all[0], stream).expect("the stream's leader and replicas");
    assert_eq!(placed.len(), 3, "{placed:?}");
    let leader = urls
        .iter()
        .position(|u| u.ends_with(&format!("@{}/%2f", placed[0])))
        .unwrap_or_else(|| panic!("the leader {} is none of {urls:?}", placed[0]));
    nodes[leader].stop();
    let others: Vec<&str> = (0..3).filter(|&i| i != leader).map(|i| all[i]).collect();

    // Every confirmed message is there, in order, read through the nodes left.
    let r = run(rabbit_ops(
        &[others[0]],
        &[
            "stream-receive",
            "--stream",
            stream,
            "--count",
            "1000",
            "--timeout",
            "60",
        ],
    ));
    r.assert_success();
    let kept = offsets(&r);
    assert_eq!(kept.len(), 1000, "{r:?}");
    for (i, (offset, text)) in kept.iter().enumerate() {
        assert_eq!(
            (*offset, text.as_str()),
            (i as u64, body(i as u64).as_str())
        );
    }

    // The consumer resumes from its stored offset: no gap; what it gets again is counted.
    let r = run(rabbit_ops(
        &[others[1]],
        &[
            "offset-tracking-receive",
            "--stream",
            stream,
            "--name",
            "billing",
            "--timeout",
            "60",
        ],
    ));
    r.assert_success();
    let resumed = offsets(&r);
    let mut seen: BTreeMap<u64, u32> = first.iter().map(|&o| (o, 1)).collect();
    for (o, _) in &resumed {
        *seen.entry(*o).or_default() += 1;
    }
    let duplicates: u32 = seen.values().map(|n| n - 1).sum();
    eprintln!(
        "stream failover: 1000 confirmed, {} read after the leader's node stopped, resumed at \
         offset {}, {duplicates} duplicate(s)",
        kept.len(),
        resumed.first().map_or(0, |(o, _)| *o)
    );
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        (0..1000).collect::<Vec<_>>(),
        "a gap"
    );
    assert!(resumed.first().is_some_and(|(o, _)| *o <= 400), "{r:?}");
    assert_eq!(
        r.lines().last().map(String::as_str),
        Some(
            format!(
                "Done consuming first_offset: {} last_offset: 999",
                resumed[0].0
            )
            .as_str()
        ),
        "{r:?}"
    );
}
