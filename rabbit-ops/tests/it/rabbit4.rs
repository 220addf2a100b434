//! Issue 22 (item 8), RabbitMQ 4.x where this machine's 3.10 cannot show it: the fake broker
//! (`fake_broker.rs`) answers as 4.3 does with its defaults (transient non-exclusive queues
//! and global QoS refused), or offers the frame_max a 4.x broker may. Checked against a fake,
//! not against a 4.x broker: docs/rabbit.md says which rows of its compatibility table are so.
//! And what 3.10 can show: a quorum queue's delivery limit (4.x sets 20 by default), here set
//! by a policy on the shared broker.

use std::sync::atomic::Ordering;
use std::time::Duration;

use test_support::STEP;

use crate::fake_broker::{Lie, fake_broker, url};
use crate::support::{Cleanup, at, consumer, rabbit, run};

/// What `--classic` adds to the refusal: the queue, what it is and what to do.
fn refused(queue: &str) -> String {
    format!(
        "error: queue '{queue}' is a non-durable classic queue (--classic), which RabbitMQ 4.3 \
         and later refuse by default (deprecated feature transient_nonexcl_queues): run without \
         --classic, or permit it on the broker \
         (deprecated_features.permit.transient_nonexcl_queues = true)\n"
    )
}

/// `--classic`'s hello and rpc_queue are non-durable and not exclusive, as the tutorials
/// declared them before: 4.3 closes the connection with a text of several lines. We print one
/// line that names the 4.x change and what to do, exit 1, and retry nothing (a consumer's
/// recovery does not take the refusal for a lost connection).
#[test]
fn a_transient_queue_refused_by_4_3_is_one_line_that_says_what_to_do() {
    let (addr, _) = fake_broker(Lie::Rabbit43);
    for (args, queue) in [
        (vec!["send", "--classic"], "hello"),
        (vec!["receive", "--classic"], "hello"),
        (vec!["rpc-server", "--classic"], "rpc_queue"),
    ] {
        let mut all = vec!["--connect-timeout", "3"];
        all.extend(&args);
        let r = run(at(&url(addr), &all));
        assert_eq!(r.code(), Some(1), "{args:?}: {r:?}");
        assert_eq!(r.stdout_text(), "", "{args:?}");
        assert_eq!(r.stderr, refused(queue), "{args:?}");
        assert!(r.took < Duration::from_secs(3), "{args:?}: {:?}", r.took);
    }
}

/// What 4.3 accepts: today's durable quorum queues (send, new-task), a prefetch per consumer
/// (worker's basic.qos; a global one closes the channel), and `publisher-confirms --queue`,
/// whose kept queue is durable now (it was transient and not exclusive, as the tutorial's).
#[test]
fn what_the_commands_declare_today_4_3_accepts() {
    let (addr, _) = fake_broker(Lie::Rabbit43);
    let r = run(at(&url(addr), &["--connect-timeout", "3", "send"]));
    assert_eq!(r.code(), Some(0), "{r:?}");
    assert_eq!(r.stdout_text(), " [x] Sent 'Hello World!'\n");
    let r = run(at(
        &url(addr),
        &["--connect-timeout", "3", "new-task", "a", "task."],
    ));
    assert_eq!(r.code(), Some(0), "{r:?}");
    assert_eq!(r.stdout_text(), " [x] Sent a task.\n");
    let r = run(at(
        &url(addr),
        &[
            "--connect-timeout",
            "3",
            "publisher-confirms",
            "--queue",
            "kept",
            "--messages",
            "3",
        ],
    ));
    assert_eq!(r.code(), Some(0), "{r:?}");
    assert_eq!(r.lines().len(), 3, "{r:?}");
}

/// A worker's prefetch is per consumer: 4.3 closes the channel of a global basic.qos (quorum
/// queues refuse it on every version). The fake answers the worker's and it waits for tasks.
#[test]
fn the_worker_prefetch_is_per_consumer() {
    let (addr, _) = fake_broker(Lie::Rabbit43);
    let mut c = at(&url(addr), &["--connect-timeout", "3", "worker"]);
    let mut p = test_support::Proc::spawn(&mut c);
    let first = p.next_line(Duration::from_secs(3));
    assert_eq!(
        first.as_deref(),
        Some(" [*] Waiting for messages. To exit press CTRL+C"),
        "{}",
        p.stderr_so_far()
    );
    p.kill();
}

/// 4.1 and later take a frame_max of at least 8192 (4096 before). We offer 128 KiB and take a
/// smaller one offered by the broker: 8192 from a 4.x broker, 4096 from an older one.
#[test]
fn we_take_the_frame_max_a_broker_offers_down_to_the_protocol_minimum() {
    for (offered, asked) in [(0, 131_072), (1 << 20, 131_072), (8192, 8192), (4096, 4096)] {
        let (addr, seen) = fake_broker(Lie::FrameMax(offered));
        let r = run(at(&url(addr), &["--connect-timeout", "1", "send"]));
        assert_eq!(r.code(), Some(1), "{offered}: {r:?}");
        assert_eq!(
            r.stderr, "error: the broker did not answer opening a channel within 1.0 s\n",
            "{offered}"
        );
        assert_eq!(seen.load(Ordering::Relaxed), asked, "{offered}");
    }
}

/// `rabbitmqctl args...` on the shared broker (this machine's: its `rabbitmqctl` reaches it).
fn ctl(args: &[&str]) {
    let r = run({
        let mut c = test_support::command("rabbitmqctl");
        c.args(args);
        c
    });
    assert_eq!(r.code(), Some(0), "rabbitmqctl {args:?}: {r:?}");
}

/// Removes the policy when the test ends, pass or fail.
struct Policy(String);

impl Drop for Policy {
    fn drop(&mut self) {
        let _ = test_support::command("rabbitmqctl")
            .args(["clear_policy", &self.0])
            .output();
    }
}

const WAITING: &str = " [*] Waiting for messages. To exit press CTRL+C";

/// What a worker does with a task that fails again and again (its worker killed mid-task, as
/// a crash would): the broker gives it to the next worker, which says so on stderr with the
/// quorum queue's count (x-delivery-count); past the queue's delivery limit the broker drops
/// it (no dead-letter exchange here), and the next worker waits for nothing. RabbitMQ 4.x sets
/// a limit of 20 on every quorum queue; 3.10 has none unless a policy sets one: 1 here.
#[test]
fn a_task_that_fails_again_and_again_is_dropped_at_the_delivery_limit() {
    let mut clean = Cleanup::new();
    let q = clean.queue("delivery-limit");
    let policy = Policy(q.clone());
    ctl(&[
        "set_policy",
        &policy.0,
        &format!("^{q}$"),
        r#"{"delivery-limit":1}"#,
        "--apply-to",
        "queues",
    ]);
    let worker = ["worker", "--queue", q.as_str(), "--dot-ms", "60000"];
    let mut first = consumer(&worker, WAITING);
    let sent = rabbit(&["new-task", "--queue", &q, "Crashing", "task."]);
    assert_eq!(sent.code(), Some(0), "{sent:?}");
    first.expect_line(" [x] Received Crashing task.");
    assert!(
        first.seen_err().is_empty(),
        "a first delivery: {:?}",
        first.seen_err()
    );
    first.kill();

    let mut second = consumer(&worker, WAITING);
    second.expect_line(" [x] Received Crashing task.");
    let said = second.wait_for_err_line(|l| l.contains("task redelivered"), STEP);
    let line = said.last().expect("a warning line");
    assert!(
        line.contains(
            "task redelivered (x-delivery-count 1): a worker stopped or lost its connection \
             before acknowledging it; RabbitMQ 4.x drops (or dead-letters) a quorum queue's \
             message redelivered 20 times"
        ),
        "{said:?}"
    );
    second.kill();

    // Past the limit: dropped, nothing comes.
    let third = rabbit(&["worker", "--queue", &q, "--dot-ms", "0", "--timeout", "2"]);
    assert_eq!(third.code(), Some(1), "{third:?}");
    assert_eq!(third.lines(), [WAITING], "the task is gone");
}
