//! Nothing lost: a worker killed mid-task (on the shared broker), then consumers and
//! publishers living through dropped connections and a broker restart (on a private node the
//! test starts on its own ports: the shared broker is never restarted).
//!
//! Booting a node takes seconds, and nextest runs each test in its own process, so the
//! connection-drop and restart scenarios share one test (one node), run side by side.

use std::io::Write;
use std::process::ChildStdin;
use std::time::{Duration, Instant};

use test_support::{ErlangHome, Proc, RabbitNode, Run, STEP};

use crate::support::{Cleanup, at, cmd, consumer, tally, worker_tasks};
use amiquip::{Connection, QueueDeclareOptions};

const WAITING: &str = " [*] Waiting for messages. To exit press CTRL+C";
const WAITING_LOGS: &str = " [*] Waiting for logs. To exit press CTRL+C";

fn tasks(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}-{i:04}.")).collect()
}

fn feed(stdin: &mut ChildStdin, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    stdin
        .write_all(text.as_bytes())
        .expect("cannot write to new-task's stdin");
    stdin.flush().unwrap();
}

/// Messages in a queue, without taking them.
fn depth(conn: &mut Connection, queue: &str) -> u32 {
    let ch = conn.open_channel(None).unwrap();
    let q = ch.queue_declare_passive(queue).unwrap();
    let n = q.declared_message_count().unwrap();
    let _ = ch.close();
    n
}

#[test]
fn worker_killed_mid_task_loses_nothing() {
    let mut clean = Cleanup::new();
    let q = clean.queue("task_queue");
    // The victim (worker 0) works slowly, so that killing it right after it took a task is
    // killing it mid-task; the two others are quick.
    let mut workers = vec![consumer(
        &["worker", "--queue", &q, "--dot-ms", "500"],
        WAITING,
    )];
    for _ in 0..2 {
        workers.push(consumer(
            &["worker", "--queue", &q, "--dot-ms", "8"],
            WAITING,
        ));
    }
    let expected = tasks("task", 1000);
    let (publisher, mut stdin) = Proc::spawn_with_stdin(&mut cmd(&[
        "new-task",
        "--stdin",
        "--queue",
        &q,
        "--retry-for",
        "20",
    ]));
    feed(&mut stdin, &expected);
    drop(stdin);
    let sent = publisher.finish(STEP);
    assert_eq!(sent.code(), Some(0), "{sent:?}");
    assert_eq!(sent.lines().len(), 1000, "one Sent line per task");

    // Let the victim finish two tasks, then SIGKILL it right after it took the next one.
    let deadline = Instant::now() + Duration::from_mins(1);
    let mut killed = false;
    while !killed {
        assert!(Instant::now() < deadline, "worker 0 never got going");
        for (i, w) in workers.iter_mut().enumerate() {
            let Some(line) = w.next_line(Duration::from_millis(2)) else {
                continue;
            };
            if i == 0 && line.starts_with(" [x] Received ") && worker_tasks(w.seen()).0.len() >= 2 {
                w.kill();
                killed = true;
                break;
            }
        }
    }
    // Whatever it printed before dying (still in the pipe) counts.
    while workers[0].next_line(Duration::from_millis(200)).is_some() {}
    let in_flight = worker_tasks(workers[0].seen())
        .1
        .expect("worker 0 was killed between two tasks, not in the middle of one");

    // The two others finish everything, including the victim's task.
    let done_by =
        |ws: &[Proc]| -> Vec<Vec<String>> { ws.iter().map(|w| worker_tasks(w.seen()).0).collect() };
    loop {
        let lists = done_by(&workers);
        let refs: Vec<&[String]> = lists.iter().map(Vec::as_slice).collect();
        if tally(&expected, &refs).1.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "tasks still missing after 60 s: {:?}",
            tally(&expected, &refs)
                .1
                .iter()
                .take(10)
                .collect::<Vec<_>>()
        );
        for w in &mut workers[1..] {
            while w.next_line(Duration::from_millis(2)).is_some() {}
        }
    }
    let lists = done_by(&workers);
    let victim_done = lists[0].len();
    let refs: Vec<&[String]> = lists.iter().map(Vec::as_slice).collect();
    let (duplicates, missing) = tally(&expected, &refs);
    assert!(missing.is_empty());
    assert!(
        lists[1..].iter().any(|l| l.contains(&in_flight)),
        "the task the killed worker was doing ({in_flight}) was done by another worker"
    );
    let mut workers = workers.into_iter();
    drop(workers.next());
    for mut w in workers {
        w.interrupt();
        assert_eq!(w.finish(STEP).code(), Some(0));
    }
    assert_eq!(
        depth(&mut crate::support::connect(), &q),
        0,
        "the queue is empty"
    );
    println!(
        "1000 tasks, worker 0 killed after {victim_done} (in the middle of {in_flight}): \
         0 lost, {duplicates} done twice"
    );
}

fn run_at(url: &str, args: &[&str]) -> Run {
    crate::support::run(at(url, args))
}

/// Publishes with `emit-log --confirm` until a receiver takes it (an unroutable message is
/// returned and exits 1: the receiver has not bound its new queue yet).
fn emit_until_routed(url: &str, exchange: &str, message: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = run_at(
            url,
            &["emit-log", "--confirm", "--exchange", exchange, message],
        );
        if r.code() == Some(0) {
            return;
        }
        assert!(
            r.stderr.contains("returned as unroutable") || r.stderr.contains("cannot connect"),
            "{r:?}"
        );
        assert!(
            Instant::now() < deadline,
            "no receiver bound after 30 s: {r:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn expect_within(p: &mut Proc, line: &str, within: Duration) {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if p.next_line(Duration::from_millis(200)).as_deref() == Some(line) {
            return;
        }
    }
    panic!("no line {line:?} within {within:?}; so far {:?}", p.seen());
}

fn wait_sent(p: &mut Proc, n: usize) {
    let deadline = Instant::now() + STEP;
    while p
        .seen()
        .iter()
        .filter(|l| l.starts_with(" [x] Sent "))
        .count()
        < n
    {
        assert!(Instant::now() < deadline, "only {:?}", p.seen().len());
        p.next_line(Duration::from_millis(100));
    }
}

#[test]
fn consumers_and_publishers_survive_dropped_connections_and_a_broker_restart() {
    let home = ErlangHome::new();
    let mut node = RabbitNode::start(&home);
    node.wait_ready(RabbitNode::BOOT);
    let url = node.url();

    // A persistent message in a durable queue, confirmed.
    let kept = run_at(
        &url,
        &["new-task", "--queue", "persist", "kept across the restart"],
    );
    assert_eq!(kept.code(), Some(0), "{kept:?}");

    let mut worker = Proc::spawn(&mut at(
        &url,
        &["worker", "--queue", "work", "--dot-ms", "0"],
    ));
    worker.expect_line(WAITING);
    let mut receiver = Proc::spawn(&mut at(&url, &["receive-logs", "--exchange", "ex"]));
    receiver.expect_line(WAITING_LOGS);
    let (mut publisher, mut stdin) = Proc::spawn_with_stdin(&mut at(
        &url,
        &[
            "new-task",
            "--stdin",
            "--queue",
            "stream",
            "--retry-for",
            "90",
        ],
    ));
    let stream = tasks("m", 800);

    assert_eq!(
        run_at(&url, &["new-task", "--queue", "work", "before."]).code(),
        Some(0)
    );
    worker.expect_line(" [x] Received before.");
    worker.expect_line(" [x] Done");
    emit_until_routed(&url, "ex", "before");
    receiver.expect_line(" [x] before");
    feed(&mut stdin, &stream[..200]);
    wait_sent(&mut publisher, 200);

    // 1. Every connection dropped by the broker.
    node.ctl(&["close_all_connections", "dropped by the test"]);
    feed(&mut stdin, &stream[200..400]);
    assert_eq!(
        run_at(&url, &["new-task", "--queue", "work", "after-drop."]).code(),
        Some(0)
    );
    expect_within(&mut worker, " [x] Received after-drop.", STEP);
    emit_until_routed(&url, "ex", "after drop");
    expect_within(&mut receiver, " [x] after drop", STEP);
    wait_sent(&mut publisher, 400);

    // 2. The broker restarts (its app stops: every connection closes, the port closes).
    node.stop_app();
    node.wait_closed(STEP);
    feed(&mut stdin, &stream[400..600]);
    std::thread::sleep(Duration::from_secs(1));
    node.start_app();
    assert_eq!(
        run_at(&url, &["new-task", "--queue", "work", "after-restart."]).code(),
        Some(0)
    );
    expect_within(
        &mut worker,
        " [x] Received after-restart.",
        Duration::from_secs(30),
    );
    emit_until_routed(&url, "ex", "after restart");
    expect_within(&mut receiver, " [x] after restart", STEP);
    feed(&mut stdin, &stream[600..]);
    drop(stdin);
    let published = publisher.finish(Duration::from_secs(90));
    assert_eq!(published.code(), Some(0), "{published:?}");
    assert!(
        published.stderr.contains("reconnected to"),
        "{}",
        published.stderr
    );

    // The persistent message survived the restart.
    let got = run_at(
        &url,
        &[
            "worker", "--queue", "persist", "--dot-ms", "0", "--count", "1",
        ],
    );
    assert_eq!(
        got.lines(),
        [
            WAITING,
            " [x] Received kept across the restart",
            " [x] Done"
        ],
        "{got:?}"
    );
    // Every streamed task is in its queue (some maybe twice: republished, unconfirmed).
    let drained = run_at(
        &url,
        &[
            "worker",
            "--queue",
            "stream",
            "--dot-ms",
            "0",
            "--timeout",
            "2",
        ],
    );
    assert_eq!(drained.code(), Some(1), "ends by --timeout: {drained:?}");
    let (done, _) = worker_tasks(&drained.lines());
    let (duplicates, missing) = tally(&stream, &[&done]);
    assert!(missing.is_empty(), "lost: {missing:?}");

    for mut p in [worker, receiver] {
        p.interrupt();
        let r = p.finish(STEP);
        assert_eq!(r.code(), Some(0), "{r:?}");
        assert!(
            r.stderr.matches("reconnected to").count() >= 2,
            "a reconnection per event: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("reconnect attempt 1 failed"),
            "{}",
            r.stderr
        );
    }
    println!(
        "800 tasks streamed through a dropped connection and a restart: 0 lost, {duplicates} \
         published twice"
    );

    publishing_flat_out_through_a_dropped_connection(&node);
}

/// Connections dropped while a confirming publisher is busy: what was not confirmed is
/// published again, and every message is in the queue.
fn publishing_flat_out_through_a_dropped_connection(node: &RabbitNode) {
    use rabbit_ops::publish::{Options, Outgoing, Publisher};
    let broker = rabbit_ops::Broker::new(&node.url(), Duration::from_secs(5)).unwrap();
    let queue = "flat-out";
    let options = Options {
        confirm: true,
        retry_for: Duration::from_mins(1),
    };
    let mut publisher = Publisher::new(&broker, options, |ch| {
        ch.queue_declare(queue, QueueDeclareOptions::default())
            .map(drop)
            .map_err(|e| rabbit_ops::Error::amqp("declaring", e))
    })
    .unwrap();
    let mut seq = 0u64;
    let publish = |p: &mut Publisher<'_, _>, seq: &mut u64| {
        *seq += 1;
        p.publish(Outgoing {
            exchange: String::new(),
            routing_key: queue.to_owned(),
            body: seq.to_string().into_bytes(),
            properties: amiquip::AmqpProperties::default(),
        })
        .unwrap();
    };
    for _ in 0..1000 {
        publish(&mut publisher, &mut seq);
    }
    // Keep publishing while rabbitmqctl drops every connection, and a while after.
    std::thread::scope(|s| {
        let dropper = s.spawn(|| node.ctl(&["close_all_connections", "dropped mid-publish"]));
        while !dropper.is_finished() {
            for _ in 0..200 {
                publish(&mut publisher, &mut seq);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        for _ in 0..1000 {
            publish(&mut publisher, &mut seq);
        }
    });
    let stats = publisher.finish().unwrap();
    assert_eq!(stats.messages, seq);
    assert!(stats.reconnections >= 1, "{stats:?}");

    let mut conn = rabbit_ops::Broker::new(&node.url(), Duration::from_secs(5))
        .unwrap()
        .connect()
        .unwrap();
    let ch = conn.open_channel(None).unwrap();
    let mut seen = vec![0u32; usize::try_from(seq).unwrap() + 1];
    let consumer = ch
        .basic_consume(
            queue,
            amiquip::ConsumerOptions {
                no_ack: true,
                ..amiquip::ConsumerOptions::default()
            },
        )
        .unwrap();
    while let Ok(amiquip::ConsumerMessage::Delivery(d)) =
        consumer.receiver().recv_timeout(Duration::from_secs(2))
    {
        let n: usize = String::from_utf8_lossy(&d.body).parse().unwrap();
        seen[n] += 1;
    }
    let lost: Vec<usize> = (1..seen.len()).filter(|&n| seen[n] == 0).collect();
    let twice: u32 = seen.iter().map(|&c| c.saturating_sub(1)).sum();
    assert!(
        lost.is_empty(),
        "{} lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(10)]
    );
    println!(
        "{seq} messages published flat out through a dropped connection: {} republished, \
         0 lost, {twice} in the queue twice",
        stats.republished
    );
}
