//! Each tutorial pair against the real broker delivers exactly what the tutorial says.
//! Every test uses its own queue/exchange names (or server-named exclusive queues) and
//! deletes what it declared.

use std::time::Duration;

use test_support::{Proc, Run, STEP, unique};

use crate::support::{Cleanup, connect, consumer, rabbit, start};
use amiquip::{Exchange, Publish, QueueDeclareOptions};

const WAITING: &str = " [*] Waiting for messages. To exit press CTRL+C";
const WAITING_LOGS: &str = " [*] Waiting for logs. To exit press CTRL+C";

fn ok(run: &Run) {
    assert_eq!(run.code(), Some(0), "{run:?}");
}

#[test]
fn hello_world_send_then_receive() {
    let mut clean = Cleanup::new();
    let q = clean.queue("hello");
    let sent = rabbit(&["send", "--queue", &q]);
    ok(&sent);
    assert_eq!(sent.stdout_text(), " [x] Sent 'Hello World!'\n");
    ok(&rabbit(&["send", "--queue", &q, "second", "one"]));

    // --count 1 takes exactly one message off the queue...
    let got = rabbit(&["receive", "--queue", &q, "--count", "1"]);
    ok(&got);
    assert_eq!(got.lines(), [WAITING, " [x] Received Hello World!"]);
    // ...so the second is still there for the next receiver.
    let got = rabbit(&["receive", "--queue", &q, "--count", "1"]);
    ok(&got);
    assert_eq!(got.lines(), [WAITING, " [x] Received second one"]);
}

#[test]
fn receiver_started_first_gets_the_message_and_stops_on_ctrl_c() {
    let mut clean = Cleanup::new();
    let q = clean.queue("hello");
    let mut receiver = consumer(&["receive", "--queue", &q], WAITING);
    ok(&rabbit(&["send", "--queue", &q]));
    receiver.expect_line(" [x] Received Hello World!");
    receiver.interrupt();
    let run = receiver.finish(STEP);
    ok(&run);
    assert_eq!(run.stderr, "", "a clean stop prints nothing on stderr");
}

#[test]
fn work_queue_round_robin_over_two_workers() {
    let mut clean = Cleanup::new();
    let q = clean.queue("task_queue");
    let worker = ["worker", "--queue", &q, "--dot-ms", "100"];
    let mut a = consumer(&worker, WAITING);
    let mut b = consumer(&worker, WAITING);
    let tasks = [
        "First message.",
        "Second message..",
        "Third message...",
        "Fourth message....",
        "Fifth message.....",
    ];
    for t in tasks {
        let mut args = vec!["new-task", "--queue", &q];
        args.extend(t.split(' '));
        let sent = rabbit(&args);
        ok(&sent);
        assert_eq!(sent.stdout_text(), format!(" [x] Sent {t}\n"));
    }
    // Each worker prints "Received" then "Done" per task: read both until five are done.
    let mut got: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    let mut done = 0;
    let deadline = std::time::Instant::now() + STEP;
    while done < 5 {
        assert!(
            std::time::Instant::now() < deadline,
            "only {done} tasks done: {got:?}"
        );
        for (i, w) in [&mut a, &mut b].into_iter().enumerate() {
            if let Some(line) = w.next_line(Duration::from_millis(20)) {
                if line == " [x] Done" {
                    done += 1;
                }
                got[i].push(line);
            }
        }
    }
    a.interrupt();
    b.interrupt();
    ok(&a.finish(STEP));
    ok(&b.finish(STEP));
    let expect = |ts: &[&str]| -> Vec<String> {
        ts.iter()
            .flat_map(|t| [format!(" [x] Received {t}"), " [x] Done".to_owned()])
            .collect()
    };
    let odd = expect(&[tasks[0], tasks[2], tasks[4]]);
    let even = expect(&[tasks[1], tasks[3]]);
    assert!(
        (got[0] == odd && got[1] == even) || (got[0] == even && got[1] == odd),
        "not round-robin: {got:?}"
    );
}

#[test]
fn an_interrupted_task_goes_to_another_worker() {
    let mut clean = Cleanup::new();
    let q = clean.queue("task_queue");
    let mut slow = consumer(&["worker", "--queue", &q, "--dot-ms", "60000"], WAITING);
    ok(&rabbit(&["new-task", "--queue", &q, "Slow", "task."]));
    slow.expect_line(" [x] Received Slow task.");
    slow.interrupt();
    let run = slow.finish(STEP);
    ok(&run);
    assert!(
        run.took < Duration::from_secs(30),
        "Ctrl-C did not cut the work short"
    );
    assert_eq!(
        run.lines(),
        [WAITING, " [x] Received Slow task."],
        "no Done"
    );

    let next = rabbit(&["worker", "--queue", &q, "--dot-ms", "0", "--count", "1"]);
    ok(&next);
    assert_eq!(
        next.lines(),
        [WAITING, " [x] Received Slow task.", " [x] Done"],
        "the unacknowledged task is delivered again"
    );
}

/// Starts `command` (a `receive-logs*`) on `exchange`, ending after `count` messages, with
/// `words` (binding keys, headers, options); waits for its Waiting line.
fn logs_receiver(command: &str, exchange: &str, count: u32, words: &[&str]) -> Proc {
    let count = count.to_string();
    let mut args = vec![command, "--exchange", exchange, "--count", &count];
    args.extend_from_slice(words);
    consumer(&args, WAITING_LOGS)
}

/// Waits for a receiver's exit 0 and checks the lines it printed after its Waiting line.
fn received<S: AsRef<str>>(receiver: Proc, lines: &[S]) {
    let run = receiver.finish(STEP);
    ok(&run);
    let all: Vec<&str> = std::iter::once(WAITING_LOGS)
        .chain(lines.iter().map(AsRef::as_ref))
        .collect();
    assert_eq!(run.lines(), all, "{run:?}");
}

/// Runs `command` (an `emit-log*`) on `exchange` with `words`; it must succeed.
fn emit(command: &str, exchange: &str, words: &[&str]) -> Run {
    let mut args = vec![command, "--exchange", exchange];
    args.extend_from_slice(words);
    let sent = rabbit(&args);
    ok(&sent);
    sent
}

#[test]
fn fanout_reaches_every_receiver() {
    let mut clean = Cleanup::new();
    let x = clean.exchange("logs");
    let r1 = logs_receiver("receive-logs", &x, 2, &[]);
    let r2 = logs_receiver("receive-logs", &x, 2, &[]);
    let sent = emit("emit-log", &x, &[]);
    assert_eq!(sent.stdout_text(), " [x] Sent info: Hello World!\n");
    emit("emit-log", &x, &["warning:", "disk", "full"]);
    for r in [r1, r2] {
        received(r, &[" [x] info: Hello World!", " [x] warning: disk full"]);
    }
}

#[test]
fn direct_exchange_filters_by_severity() {
    let mut clean = Cleanup::new();
    let x = clean.exchange("direct_logs");
    let errors = logs_receiver("receive-logs-direct", &x, 3, &["warning", "error"]);
    let all = logs_receiver("receive-logs-direct", &x, 4, &["info", "warning", "error"]);
    let sent = emit("emit-log-direct", &x, &[]);
    assert_eq!(sent.stdout_text(), " [x] Sent info:Hello World!\n");
    for words in [
        &["debug", "nobody listens"][..],
        &["warning", "disk", "90%"],
        &["error", "disk", "full"],
        &["error", "end"],
    ] {
        emit("emit-log-direct", &x, words);
    }
    received(
        errors,
        &[
            " [x] warning:disk 90%",
            " [x] error:disk full",
            " [x] error:end",
        ],
    );
    received(
        all,
        &[
            " [x] info:Hello World!",
            " [x] warning:disk 90%",
            " [x] error:disk full",
            " [x] error:end",
        ],
    );
}

#[test]
fn topic_routing_matches_the_tutorial() {
    let mut clean = Cleanup::new();
    let x = clean.exchange("topic_logs");
    // Q1 binds *.orange.*; Q2 binds *.*.rabbit and lazy.#. A last message both receive ends
    // each run, so anything routed wrongly before it would show.
    let q1 = logs_receiver("receive-logs-topic", &x, 4, &["*.orange.*"]);
    let q2 = logs_receiver("receive-logs-topic", &x, 5, &["*.*.rabbit", "lazy.#"]);
    let keys = [
        "quick.orange.rabbit",
        "lazy.orange.elephant",
        "quick.orange.fox",
        "lazy.brown.fox",
        "quick.brown.fox",
        "quick.orange.new.rabbit",
        "lazy.orange.new.rabbit",
        "end.orange.rabbit",
    ];
    for k in keys {
        let sent = emit("emit-log-topic", &x, &[k, "msg"]);
        assert_eq!(sent.stdout_text(), format!(" [x] Sent {k}:msg\n"));
    }
    let msgs =
        |ks: &[&str]| -> Vec<String> { ks.iter().map(|k| format!(" [x] {k}:msg")).collect() };
    received(
        q1,
        &msgs(&[
            "quick.orange.rabbit",
            "lazy.orange.elephant",
            "quick.orange.fox",
            "end.orange.rabbit",
        ]),
    );
    received(
        q2,
        &msgs(&[
            "quick.orange.rabbit",
            "lazy.orange.elephant",
            "lazy.brown.fox",
            "lazy.orange.new.rabbit",
            "end.orange.rabbit",
        ]),
    );
}

#[test]
fn topic_default_routing_key() {
    let mut clean = Cleanup::new();
    let x = clean.exchange("topic_logs");
    let r = logs_receiver("receive-logs-topic", &x, 1, &["#"]);
    let sent = emit("emit-log-topic", &x, &[]);
    assert_eq!(
        sent.stdout_text(),
        " [x] Sent anonymous.info:Hello World!\n"
    );
    received(r, &[" [x] anonymous.info:Hello World!"]);
}

#[test]
fn headers_exchange_matches_all_or_any() {
    let mut clean = Cleanup::new();
    let x = clean.exchange("headers_logs");
    let pairs = ["format=pdf", "type=report"];
    let all = logs_receiver("receive-logs-headers", &x, 2, &pairs);
    let any = logs_receiver(
        "receive-logs-headers",
        &x,
        4,
        &["--match", "any", pairs[0], pairs[1]],
    );
    for words in [
        &["format=pdf", "type=report", "both"][..],
        &["format=pdf", "only", "format"],
        &["type=log", "neither"],
        &["format=zip", "type=report", "type", "only"],
        &["format=pdf", "type=report", "end=1", "end"],
    ] {
        emit("emit-log-headers", &x, words);
    }
    received(
        all,
        &[
            " [x] format=pdf,type=report:both",
            " [x] end=1,format=pdf,type=report:end",
        ],
    );
    received(
        any,
        &[
            " [x] format=pdf,type=report:both",
            " [x] format=pdf:only format",
            " [x] format=zip,type=report:type only",
            " [x] end=1,format=pdf,type=report:end",
        ],
    );
}

#[test]
fn rpc_fib_30_and_bad_input_answered() {
    let mut clean = Cleanup::new();
    let q = clean.queue("rpc_queue");
    let mut server = consumer(&["rpc-server", "--queue", &q], " [x] Awaiting RPC requests");

    let run = rabbit(&["rpc-client", "--queue", &q, "30"]);
    ok(&run);
    assert_eq!(run.lines(), [" [x] Requesting fib(30)", " [.] Got 832040"]);
    server.expect_line(" [.] fib(30)");

    for (n, why) in [
        ("-1", "n must not be negative (got -1)"),
        ("abc", "'abc' is not a whole number"),
        (
            "20001",
            "fib(20001) is not computed here: n must be at most 20000",
        ),
    ] {
        let run = rabbit(&["rpc-client", "--queue", &q, "--", n]);
        assert_eq!(run.code(), Some(1), "{run:?}");
        assert_eq!(run.lines(), [format!(" [x] Requesting fib({n})")]);
        assert_eq!(
            run.stderr,
            format!("error: the server refused fib({n}): {why}\n")
        );
        server.expect_line(&format!(" [.] fib({n})"));
    }

    // The server is still there, and answers several requests at once.
    let run = rabbit(&["rpc-client", "--queue", &q, "--concurrency", "4", "10"]);
    ok(&run);
    let mut lines = run.lines();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [" [.] Got 55"; 4]
            .into_iter()
            .chain([" [x] Requesting fib(10)"; 4])
            .collect::<Vec<_>>()
    );
    for _ in 0..4 {
        server.expect_line(" [.] fib(10)");
    }
    server.interrupt();
    ok(&server.finish(STEP));
}

#[test]
fn rpc_client_ignores_answers_with_other_correlation_ids() {
    let mut clean = Cleanup::new();
    let q = clean.queue("rpc_queue");
    // A server that first answers with a foreign correlation id, then correctly.
    let mut conn = connect();
    let ch = conn.open_channel(None).unwrap();
    let queue = ch
        .queue_declare(q.as_str(), QueueDeclareOptions::default())
        .unwrap();
    let consumer = queue.consume(amiquip::ConsumerOptions::default()).unwrap();
    let client = start(&["rpc-client", "--queue", &q, "--timeout", "10", "7"]);
    let delivery = match consumer.receiver().recv_timeout(STEP) {
        Ok(amiquip::ConsumerMessage::Delivery(d)) => d,
        other => panic!("no request: {other:?}"),
    };
    assert_eq!(delivery.body, b"7");
    let reply_to = delivery.properties.reply_to().clone().expect("reply_to");
    let id = delivery
        .properties
        .correlation_id()
        .clone()
        .expect("correlation_id");
    let ex = Exchange::direct(&ch);
    let answer = |body: &str, corr: &str| {
        let props = amiquip::AmqpProperties::default().with_correlation_id(corr.to_owned());
        ex.publish(Publish::with_properties(
            body.as_bytes(),
            reply_to.clone(),
            props,
        ))
        .unwrap();
    };
    answer("999", "someone-else");
    answer("13", &id);
    consumer.ack(delivery).unwrap();
    let run = client.finish(STEP);
    ok(&run);
    assert_eq!(run.lines(), [" [x] Requesting fib(7)", " [.] Got 13"]);

    // An answer that is not an integer is one the client cannot read (not a refusal); a huge
    // integer is printed whole.
    for (answer_body, code, stderr) in [
        (
            "thirteen".to_owned(),
            1,
            "error: an answer the client cannot read for fib(7): 'thirteen' is not an integer\n"
                .to_owned(),
        ),
        ("9".repeat(5000), 0, String::new()),
    ] {
        let client = start(&["rpc-client", "--queue", &q, "--timeout", "10", "7"]);
        let delivery = match consumer.receiver().recv_timeout(STEP) {
            Ok(amiquip::ConsumerMessage::Delivery(d)) => d,
            other => panic!("no request: {other:?}"),
        };
        let reply_to = delivery.properties.reply_to().clone().expect("reply_to");
        let id = delivery.properties.correlation_id().clone().unwrap();
        let props = amiquip::AmqpProperties::default().with_correlation_id(id);
        ex.publish(Publish::with_properties(
            answer_body.as_bytes(),
            reply_to,
            props,
        ))
        .unwrap();
        consumer.ack(delivery).unwrap();
        let run = client.finish(STEP);
        assert_eq!(run.code(), Some(code), "{run:?}");
        assert_eq!(run.stderr, stderr);
        if code == 0 {
            assert_eq!(run.lines()[1], format!(" [.] Got {answer_body}"));
        }
    }
    drop(consumer);
    let _ = ch.close();
    let _ = conn.close();
}

#[test]
fn rpc_client_times_out_without_server() {
    let mut clean = Cleanup::new();
    // A queue nobody consumes: the request waits there, no answer comes.
    let q = clean.queue("rpc_queue");
    let mut conn = connect();
    let ch = conn.open_channel(None).unwrap();
    ch.queue_declare(q.as_str(), QueueDeclareOptions::default())
        .unwrap();
    let run = rabbit(&["rpc-client", "--queue", &q, "--timeout", "1"]);
    assert_eq!(run.code(), Some(1), "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "error: no answer to fib(30) within 1.0 s on queue '{q}': is rpc-server running?\n"
        )
    );
    assert!(run.took < Duration::from_secs(8), "{:?}", run.took);
    let _ = ch.close();
    let _ = conn.close();

    // No queue at all: the broker returns the request at once.
    let missing = unique("test-no-such-queue");
    let run = rabbit(&["rpc-client", "--queue", &missing, "--timeout", "30"]);
    assert_eq!(run.code(), Some(1), "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "error: no queue '{missing}' takes the request: start rpc-server (or pass its \
             --queue) first\n"
        )
    );
    assert!(run.took < Duration::from_secs(15), "{:?}", run.took);
}

#[test]
fn publisher_confirms_confirms_every_message() {
    let mut clean = Cleanup::new();
    let q = clean.queue("confirms");
    let run = rabbit(&["publisher-confirms", "--messages", "1200", "--queue", &q]);
    ok(&run);
    let lines = run.lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let prefixes = [
        "Published 1,200 messages individually in ",
        "Published 1,200 messages in batch in ",
        "Published 1,200 messages and handled confirms asynchronously in ",
    ];
    for (line, prefix) in lines.iter().zip(prefixes) {
        let ms = line
            .strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(" ms"))
            .unwrap_or_else(|| panic!("{line:?} does not start with {prefix:?}"));
        assert!(ms.replace(',', "").parse::<u64>().is_ok(), "{line:?}");
    }
    // Every confirmed message is really in the queue.
    let mut conn = connect();
    let ch = conn.open_channel(None).unwrap();
    let declared = ch.queue_declare_passive(q.as_str()).unwrap();
    assert_eq!(declared.declared_message_count(), Some(3600));
    let _ = ch.close();
    let _ = conn.close();
}

#[test]
fn publisher_confirms_with_temporary_queues() {
    let _clean = Cleanup::new();
    let run = rabbit(&["publisher-confirms", "--messages", "50"]);
    ok(&run);
    assert_eq!(run.lines().len(), 3, "{run:?}");
    assert!(
        run.lines()[2].starts_with("Published 50 messages and handled confirms"),
        "{run:?}"
    );
}

#[test]
fn a_queue_of_the_other_generation_is_named_with_what_to_do() {
    let mut clean = Cleanup::new();
    let classic = clean.queue("hello-classic");
    let mut conn = connect();
    let ch = conn.open_channel(None).unwrap();
    ch.queue_declare(classic.as_str(), QueueDeclareOptions::default())
        .unwrap();
    let _ = ch.close();
    let _ = conn.close();
    for args in [
        vec!["send", "--queue", &classic],
        vec!["receive", "--queue", &classic, "--count", "1"],
        vec!["new-task", "--queue", &classic],
        vec!["worker", "--queue", &classic, "--count", "1"],
        vec!["rpc-server", "--queue", &classic, "--count", "1"],
    ] {
        let run = rabbit(&args);
        assert_eq!(run.code(), Some(1), "{args:?}: {run:?}");
        assert_eq!(
            run.stderr,
            format!(
                "error: queue '{classic}' exists as a classic queue: run with --classic, or \
                 delete it\n"
            ),
            "{args:?}"
        );
        assert!(run.took < Duration::from_secs(5), "{:?}", run.took);
    }
    // The previous generation's declarations still work with --classic.
    ok(&rabbit(&["send", "--classic", "--queue", &classic]));
    let got = rabbit(&["receive", "--classic", "--queue", &classic, "--count", "1"]);
    ok(&got);
    assert_eq!(got.lines(), [WAITING, " [x] Received Hello World!"]);

    // The reverse: today's quorum queue, used with --classic.
    let quorum = clean.queue("hello-quorum");
    ok(&rabbit(&["send", "--queue", &quorum]));
    for args in [
        vec!["send", "--classic", "--queue", &quorum],
        vec!["worker", "--classic", "--queue", &quorum, "--count", "1"],
    ] {
        let run = rabbit(&args);
        assert_eq!(run.code(), Some(1), "{args:?}: {run:?}");
        let existing = if args[0] == "worker" {
            // task_queue's classic form is durable: the type is what differs.
            "a quorum queue"
        } else {
            "a durable queue (today's tutorials: quorum)"
        };
        assert_eq!(
            run.stderr,
            format!(
                "error: queue '{quorum}' exists as {existing}: run without --classic, or \
                 delete it\n"
            ),
            "{args:?}"
        );
    }
    let run = rabbit(&["worker", "--quorum", "--classic"]);
    assert_eq!(run.code(), Some(2), "{run:?}");
    assert_eq!(
        run.stderr_lines()[0],
        "error: --quorum and --classic exclude each other: pick one (quorum is the default)"
    );
}
