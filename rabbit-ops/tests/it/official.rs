//! rabbit-ops against today's official tutorial programs (issue 12): our Python 3 versions of
//! them in `tests/official/` (pika in `target/pika-venv`, made by `scripts/pika-venv`), every
//! pairing of tutorials 1-6 in both directions on the shared broker, comparing the bodies, the
//! lines printed, and the properties (`delivery_mode`, `reply_to`, `correlation_id`) of what
//! each side publishes. Every test uses names of its own (never `hello`, `task_queue`,
//! `rpc_queue`, `logs`...), deleted at the end.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use amiquip::{
    AmqpProperties, Channel, ConsumerMessage, ConsumerOptions, Delivery, Exchange,
    ExchangeDeclareOptions, ExchangeType, Publish, QueueDeclareOptions,
};
use rabbit_ops::queues::{Declared, Generation};
use test_support::{Proc, Run, STEP, command};

use crate::support::{Cleanup, cmd, connect, run};

const WAITING: &str = " [*] Waiting for messages. To exit press CTRL+C";
const WAITING_LOGS: &str = " [*] Waiting for logs. To exit press CTRL+C";
const AWAITING: &str = " [x] Awaiting RPC requests";

/// The venv's python: made once per test binary by `scripts/pika-venv`; the test fails
/// loudly when it cannot be made.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let out = std::process::Command::new(root.join("scripts/pika-venv"))
            .output()
            .expect("cannot run scripts/pika-venv");
        assert!(
            out.status.success(),
            "scripts/pika-venv could not make the venv with pika (the official programs need \
             it): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

/// An official program (`send`, `receive_logs_topic`...) with its test overrides.
fn official(program: &str, env: &[(&str, &str)], args: &[&str]) -> Command {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/official")
        .join(format!("{program}.py"));
    let mut c = command(python());
    c.arg(script).args(args);
    c.env("TUTORIAL_AMQP_URL", test_support::amqp_url());
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Runs a producer to the end; it must succeed.
fn produce(mut c: Command) -> Run {
    c.env_remove("TUTORIAL_MAX_MESSAGES");
    let r = run(c);
    assert_eq!(r.code(), Some(0), "{r:?}");
    r
}

/// Starts `consumer`, waits for its `ready` line, runs the `producers` (each must succeed),
/// then waits for the consumer to end by itself (exit 0): the producers' runs and everything
/// the consumer printed.
fn pair(mut consumer: Command, ready: &str, producers: Vec<Command>) -> (Vec<Run>, Vec<String>) {
    let mut p = Proc::spawn(&mut consumer);
    p.expect_line(ready);
    let runs = producers.into_iter().map(produce).collect();
    let done = p.finish(STEP);
    assert_eq!(done.code(), Some(0), "{done:?}");
    (runs, done.lines())
}

/// The first stdout line of each run.
fn sent(runs: &[Run]) -> Vec<String> {
    runs.iter().map(|r| r.lines().join("\n")).collect()
}

/// The properties the tutorials set, as compared: delivery mode, reply_to and correlation_id
/// (whether set: their values are per request), the headers without `x-delivery-count` (a
/// quorum queue adds it on delivery).
#[derive(Debug, PartialEq, Eq)]
struct Props {
    delivery_mode: Option<u8>,
    reply_to: bool,
    correlation_id: bool,
    headers: Vec<String>,
}

fn props(p: &AmqpProperties) -> Props {
    Props {
        delivery_mode: *p.delivery_mode(),
        reply_to: p.reply_to().is_some(),
        correlation_id: p.correlation_id().is_some(),
        headers: p
            .headers()
            .iter()
            .flat_map(|h| h.keys())
            .filter(|k| *k != "x-delivery-count")
            .cloned()
            .collect(),
    }
}

/// Takes `n` deliveries from `queue` (acknowledged).
fn take(channel: &Channel, queue: &str, n: usize) -> Vec<Delivery> {
    let consumer = channel
        .basic_consume(queue, ConsumerOptions::default())
        .unwrap();
    let mut got = Vec::new();
    while got.len() < n {
        match consumer.receiver().recv_timeout(STEP) {
            Ok(ConsumerMessage::Delivery(d)) => {
                consumer.ack(d.clone()).unwrap();
                got.push(d);
            }
            other => panic!("{} of {n} deliveries, then {other:?}", got.len()),
        }
    }
    // Cancelled and waited for: a consumer dropped early tears amiquip's connection down.
    rabbit_ops::consume::cancel(consumer).unwrap();
    got
}

/// Both producers' messages, taken from `queue`: same bodies in order, same properties.
fn same_messages(channel: &Channel, queue: &str, ours: Command, theirs: Command) -> Props {
    produce(ours);
    produce(theirs);
    let got = take(channel, queue, 2);
    assert_eq!(got[0].body, got[1].body, "ours then the official one");
    let (a, b) = (props(&got[0].properties), props(&got[1].properties));
    assert_eq!(a, b, "properties: ours then the official one");
    a
}

fn quorum() -> QueueDeclareOptions {
    Declared::transient_classic(Generation::Quorum).options()
}

#[test]
fn hello_world_both_ways() {
    let mut clean = Cleanup::new();
    let q = clean.queue("official-hello");
    let env = [
        ("TUTORIAL_QUEUE", q.as_str()),
        ("TUTORIAL_MAX_MESSAGES", "2"),
    ];
    // Official receive.py takes what rabbit-ops send publishes.
    let (runs, lines) = pair(
        official("receive", &env, &[]),
        WAITING,
        vec![
            cmd(&["send", "--queue", &q]),
            cmd(&["send", "--queue", &q, "second", "one"]),
        ],
    );
    assert_eq!(
        sent(&runs),
        [" [x] Sent 'Hello World!'", " [x] Sent 'second one'"]
    );
    let expected = [
        WAITING,
        " [x] Received Hello World!",
        " [x] Received second one",
    ];
    assert_eq!(lines, expected);
    // rabbit-ops receive takes what the official send.py publishes, and prints the same.
    let (runs, ours) = pair(
        cmd(&["receive", "--queue", &q, "--count", "2"]),
        WAITING,
        vec![official("send", &env, &[]), official("send", &env, &[])],
    );
    assert_eq!(sent(&runs), [" [x] Sent 'Hello World!'"; 2]);
    assert_eq!(ours, [WAITING, expected[1], expected[1]]);
    // The same message, the same (no) properties.
    let mut conn = connect();
    let ch = conn.open_channel(None).unwrap();
    ch.queue_declare(q.as_str(), quorum()).unwrap();
    let p = same_messages(
        &ch,
        &q,
        cmd(&["send", "--queue", &q]),
        official("send", &env, &[]),
    );
    assert_eq!(p.delivery_mode, None);
    let _ = conn.close();
}

#[test]
fn work_queues_both_ways() {
    let mut clean = Cleanup::new();
    let q = clean.queue("official-tasks");
    let env = [
        ("TUTORIAL_QUEUE", q.as_str()),
        ("TUTORIAL_MAX_MESSAGES", "2"),
    ];
    let (runs, lines) = pair(
        official("worker", &env, &[]),
        WAITING,
        vec![
            cmd(&["new-task", "--queue", &q, "First", "message."]),
            cmd(&["new-task", "--queue", &q]),
        ],
    );
    assert_eq!(
        sent(&runs),
        [" [x] Sent First message.", " [x] Sent Hello World!"]
    );
    let expected = [
        WAITING,
        " [x] Received First message.",
        " [x] Done",
        " [x] Received Hello World!",
        " [x] Done",
    ];
    assert_eq!(lines, expected);
    let (runs, ours) = pair(
        cmd(&["worker", "--queue", &q, "--count", "2", "--dot-ms", "10"]),
        WAITING,
        vec![
            official("new_task", &env, &["First", "message."]),
            official("new_task", &env, &[]),
        ],
    );
    assert_eq!(
        sent(&runs),
        [" [x] Sent First message.", " [x] Sent Hello World!"]
    );
    assert_eq!(ours, expected);
    let mut conn = connect();
    let ch = conn.open_channel(None).unwrap();
    ch.queue_declare(
        q.as_str(),
        Declared::durable_classic(Generation::Quorum).options(),
    )
    .unwrap();
    let p = same_messages(
        &ch,
        &q,
        cmd(&["new-task", "--queue", &q, "a.b"]),
        official("new_task", &env, &["a.b"]),
    );
    assert_eq!(p.delivery_mode, Some(2), "persistent");
    let _ = conn.close();
}

/// A spy queue bound to `exchange` (declared as the tutorials do), to compare what each
/// emitter publishes.
fn spy(ch: &Channel, exchange: &str, kind: ExchangeType, keys: &[&str]) -> String {
    let x = ch
        .exchange_declare(kind, exchange, ExchangeDeclareOptions::default())
        .unwrap();
    let q = ch
        .queue_declare(
            "",
            QueueDeclareOptions {
                exclusive: true,
                ..QueueDeclareOptions::default()
            },
        )
        .unwrap();
    for k in keys {
        q.bind(&x, *k, amiquip::FieldTable::new()).unwrap();
    }
    q.name().to_owned()
}

#[test]
fn publish_subscribe_both_ways() {
    let mut clean = Cleanup::new();
    let x = clean.exchange("official-logs");
    let env = [
        ("TUTORIAL_EXCHANGE", x.as_str()),
        ("TUTORIAL_MAX_MESSAGES", "2"),
    ];
    let (runs, lines) = pair(
        official("receive_logs", &env, &[]),
        WAITING_LOGS,
        vec![
            cmd(&["emit-log", "--exchange", &x]),
            cmd(&["emit-log", "--exchange", &x, "warning:", "disk", "full"]),
        ],
    );
    let sent_lines = [
        " [x] Sent info: Hello World!",
        " [x] Sent warning: disk full",
    ];
    assert_eq!(sent(&runs), sent_lines);
    // Python prints the body's bytes repr; rabbit-ops prints the text (a listed difference).
    assert_eq!(
        lines,
        [
            WAITING_LOGS,
            " [x] b'info: Hello World!'",
            " [x] b'warning: disk full'"
        ]
    );
    let (runs, ours) = pair(
        cmd(&["receive-logs", "--exchange", &x, "--count", "2"]),
        WAITING_LOGS,
        vec![
            official("emit_log", &env, &[]),
            official("emit_log", &env, &["warning:", "disk", "full"]),
        ],
    );
    assert_eq!(sent(&runs), sent_lines);
    assert_eq!(
        ours,
        [
            WAITING_LOGS,
            " [x] info: Hello World!",
            " [x] warning: disk full"
        ]
    );
    let mut conn = connect();
    let ch = conn.open_channel(None).unwrap();
    let q = spy(&ch, &x, ExchangeType::Fanout, &[""]);
    let p = same_messages(
        &ch,
        &q,
        cmd(&["emit-log", "--exchange", &x]),
        official("emit_log", &env, &[]),
    );
    assert_eq!(p.delivery_mode, None);
    let _ = conn.close();
}

/// Tutorials 4 and 5, both ways: `receiver` (official `receive_logs_<kind>.py`, ours
/// `receive-logs-<kind>`) bound with `keys` takes what the other side's emitter publishes for
/// each of `emits` (words: key, then message); `sent` are the emitters' lines (the same on both
/// sides), `got` the (key, body) pairs the receivers get.
fn keyed_both_ways(
    kind: ExchangeType,
    keys: &[&str],
    emits: &[&[&str]],
    sent_lines: &[&str],
    got: &[(&str, &str)],
) -> (Cleanup, String) {
    let name = if matches!(kind, ExchangeType::Direct) {
        "direct"
    } else {
        "topic"
    };
    let mut clean = Cleanup::new();
    let x = clean.exchange(&format!("official-{name}"));
    let count = got.len().to_string();
    let env = [
        ("TUTORIAL_EXCHANGE", x.as_str()),
        ("TUTORIAL_MAX_MESSAGES", count.as_str()),
    ];
    let ours_emit = |words: &[&str]| {
        let command = format!("emit-log-{name}");
        let mut args = vec![command.as_str(), "--exchange", &x];
        args.extend(words);
        cmd(&args)
    };
    let (official_emit, official_receive) =
        (format!("emit_log_{name}"), format!("receive_logs_{name}"));
    let (runs, lines) = pair(
        official(&official_receive, &env, keys),
        WAITING_LOGS,
        emits.iter().map(|w| ours_emit(w)).collect(),
    );
    assert_eq!(sent(&runs), sent_lines);
    let mut expected = vec![WAITING_LOGS.to_owned()];
    expected.extend(got.iter().map(|(k, b)| format!(" [x] {k}:b'{b}'")));
    assert_eq!(lines, expected, "the official receiver");
    let receive = format!("receive-logs-{name}");
    let mut args = vec![receive.as_str(), "--exchange", &x, "--count", &count];
    args.extend(keys);
    let (runs, ours) = pair(
        cmd(&args),
        WAITING_LOGS,
        emits
            .iter()
            .map(|w| official(&official_emit, &env, w))
            .collect(),
    );
    assert_eq!(sent(&runs), sent_lines);
    let mut expected = vec![WAITING_LOGS.to_owned()];
    expected.extend(got.iter().map(|(k, b)| format!(" [x] {k}:{b}")));
    assert_eq!(ours, expected, "rabbit-ops' receiver");
    let mut conn = connect();
    let ch = conn.open_channel(None).unwrap();
    let q = spy(&ch, &x, kind, &["error"]);
    let p = same_messages(
        &ch,
        &q,
        ours_emit(&["error", "x"]),
        official(&official_emit, &env, &["error", "x"]),
    );
    assert_eq!(p.delivery_mode, None);
    let _ = conn.close();
    (clean, x)
}

#[test]
fn routing_both_ways() {
    // One argument is the severity, in both (`emit_log_direct.py error`).
    let _ = keyed_both_ways(
        ExchangeType::Direct,
        &["info", "error"],
        &[
            &["error", "Run.", "Run."],
            &["warning", "nobody", "binds", "this"],
            &[],
            &["error"],
        ],
        &[
            " [x] Sent error:Run. Run.",
            " [x] Sent warning:nobody binds this",
            " [x] Sent info:Hello World!",
            " [x] Sent error:Hello World!",
        ],
        &[
            ("error", "Run. Run."),
            ("info", "Hello World!"),
            ("error", "Hello World!"),
        ],
    );
}

#[test]
fn topics_both_ways() {
    let (clean, x) = keyed_both_ways(
        ExchangeType::Topic,
        &["kern.*", "anonymous.info"],
        &[
            &["kern.critical", "A", "critical", "kernel", "error"],
            &["cron.info", "not", "bound"],
            &[],
        ],
        &[
            " [x] Sent kern.critical:A critical kernel error",
            " [x] Sent cron.info:not bound",
            " [x] Sent anonymous.info:Hello World!",
        ],
        &[
            ("kern.critical", "A critical kernel error"),
            ("anonymous.info", "Hello World!"),
        ],
    );
    // The listed difference: a lone argument is our routing key, the official one ignores it.
    assert_eq!(
        produce(official(
            "emit_log_topic",
            &[("TUTORIAL_EXCHANGE", &x)],
            &["kern.info"]
        ))
        .lines(),
        [" [x] Sent anonymous.info:Hello World!"]
    );
    assert_eq!(
        produce(cmd(&["emit-log-topic", "--exchange", &x, "kern.info"])).lines(),
        [" [x] Sent kern.info:Hello World!"]
    );
    drop(clean);
}

/// fib(n) as the official server computes it (Python's loop), for comparing answers.
fn fib(n: u32) -> String {
    rabbit_ops::tutorials::rpc::fib(n).unwrap().to_string()
}

/// Sends one request to `queue` as a client would, and answers the reply's properties and body.
fn ask(ch: &Channel, queue: &str, n: &str) -> (AmqpProperties, String) {
    let reply = ch
        .queue_declare(
            "",
            QueueDeclareOptions {
                exclusive: true,
                ..QueueDeclareOptions::default()
            },
        )
        .unwrap();
    let consumer = reply
        .consume(ConsumerOptions {
            no_ack: true,
            ..ConsumerOptions::default()
        })
        .unwrap();
    let props = AmqpProperties::default()
        .with_reply_to(reply.name().to_owned())
        .with_correlation_id("spy-1".to_owned());
    Exchange::direct(ch)
        .publish(Publish::with_properties(n.as_bytes(), queue, props))
        .unwrap();
    match consumer.receiver().recv_timeout(STEP) {
        Ok(ConsumerMessage::Delivery(d)) => (d.properties, String::from_utf8(d.body).unwrap()),
        other => panic!("no answer from the server: {other:?}"),
    }
}

#[test]
fn rpc_both_ways() {
    let mut clean = Cleanup::new();
    let q = clean.queue("official-rpc");
    let big = rabbit_ops::tutorials::rpc::MAX_N.to_string();
    let ns = ["30", "187", big.as_str()];
    let env = [
        ("TUTORIAL_QUEUE", q.as_str()),
        ("TUTORIAL_MAX_MESSAGES", "4"),
        ("TUTORIAL_FAST_FIB", "1"),
    ];
    let mut conn = connect();
    let ch = conn.open_channel(None).unwrap();
    let expected = |n: &str| {
        vec![
            format!(" [x] Requesting fib({n})"),
            format!(" [.] Got {}", fib(n.parse().unwrap())),
        ]
    };
    // The official client against rabbit-ops rpc-server, then a spy's request: the reply has
    // the request's correlation_id and nothing else.
    let servers = [
        cmd(&["rpc-server", "--queue", &q, "--count", "4"]),
        official("rpc_server", &env, &[]),
    ];
    let mut replies = Vec::new();
    let mut printed = Vec::new();
    for (i, mut server) in servers.into_iter().enumerate() {
        let mut p = Proc::spawn(&mut server);
        p.expect_line(AWAITING);
        for n in ns {
            let client = if i == 0 {
                official("rpc_client", &[("TUTORIAL_QUEUE", q.as_str())], &[n])
            } else {
                cmd(&["rpc-client", "--queue", &q, n])
            };
            assert_eq!(produce(client).lines(), expected(n), "server {i}");
        }
        let (props, body) = ask(&ch, &q, "10");
        assert_eq!(body, "55");
        replies.push(props);
        let done = p.finish(STEP);
        assert_eq!(done.code(), Some(0), "{done:?}");
        printed.push(done.lines());
    }
    assert_eq!(printed[0], printed[1], "the servers print the same lines");
    assert_eq!(
        printed[0],
        [
            AWAITING,
            " [.] fib(30)",
            " [.] fib(187)",
            &format!(" [.] fib({big})"),
            " [.] fib(10)"
        ]
    );
    for r in &replies {
        assert_eq!(r.correlation_id().as_deref(), Some("spy-1"));
        assert_eq!(r.reply_to(), &None);
        assert_eq!(r.delivery_mode(), &None);
    }
    // What each client sends: reply_to and a correlation id, nothing else; the body n.
    ch.queue_declare(q.as_str(), quorum()).unwrap();
    let ours = Proc::spawn(&mut cmd(&[
        "rpc-client",
        "--queue",
        &q,
        "--timeout",
        "10",
        "5",
    ]));
    let theirs = Proc::spawn(&mut official(
        "rpc_client",
        &[("TUTORIAL_QUEUE", q.as_str())],
        &["5"],
    ));
    let requests = take(&ch, &q, 2);
    let x = Exchange::direct(&ch);
    for r in &requests {
        assert_eq!(r.body, b"5");
        assert_eq!(
            props(&r.properties),
            Props {
                delivery_mode: None,
                reply_to: true,
                correlation_id: true,
                headers: Vec::new()
            }
        );
        let answer = AmqpProperties::default()
            .with_correlation_id(r.properties.correlation_id().clone().unwrap());
        x.publish(Publish::with_properties(
            b"5",
            r.properties.reply_to().clone().unwrap(),
            answer,
        ))
        .unwrap();
    }
    for client in [ours, theirs] {
        let done = client.finish(STEP);
        assert_eq!(done.code(), Some(0), "{done:?}");
        assert_eq!(done.lines(), expected("5"));
    }
    let _ = conn.close();
}
