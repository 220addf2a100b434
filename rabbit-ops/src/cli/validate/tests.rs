use super::*;
use crate::cli::Args;
use common::cli::{Parsed, parse_from};
use std::ffi::OsString;

fn parse(args: &[&str]) -> Parsed<Args> {
    let args: Vec<OsString> = std::iter::once("rabbit-ops")
        .chain(args.iter().copied())
        .map(OsString::from)
        .collect();
    parse_from(&args, "0")
}

fn args(words: &[&str]) -> Args {
    match parse(words) {
        Parsed::Run(a) => a,
        other => panic!("{words:?}: {other:?}"),
    }
}

fn job_of(words: &[&str]) -> Result<Job, Error> {
    validate(args(words)).map(|o| o.job)
}

/// The usage error of `words`: its message and the command whose help it points to.
fn usage(words: &[&str]) -> (String, Option<&'static str>) {
    match job_of(words) {
        Err(Error::Usage { what, command }) => (what, command),
        other => panic!("{words:?}: not a usage error: {other:?}"),
    }
}

#[test]
fn counts_and_seconds_are_checked_by_the_parser() {
    assert_eq!(super::super::args::positive("3"), Ok(3));
    assert!(super::super::args::positive("0").is_err());
    for bad in [
        &["receive", "--count", "0"][..],
        &["--connect-timeout", "0", "send"],
        &["worker", "--timeout", "soon"],
        &["new-task", "--retry-for", "-1"],
    ] {
        assert!(matches!(parse(bad), Parsed::Usage(_)), "{bad:?}");
    }
}

#[test]
fn messages_default_like_the_tutorials() {
    let Ok(Job::Send { queue, message, .. }) = job_of(&["send"]) else {
        panic!()
    };
    assert_eq!(
        (queue.as_str(), message.as_str()),
        ("hello", "Hello World!")
    );
    let Ok(Job::NewTask {
        queue,
        messages,
        publish,
        ..
    }) = job_of(&["new-task", "First", "message."])
    else {
        panic!()
    };
    assert_eq!(queue, "task_queue");
    assert_eq!(messages, Source::Words("First message.".into()));
    assert!(publish.confirm);
    let Ok(Job::RpcClient {
        n,
        concurrency,
        timeout,
        ..
    }) = job_of(&["rpc-client"])
    else {
        panic!()
    };
    assert_eq!(
        (n.as_str(), concurrency, timeout),
        ("30", 1, Duration::from_secs(10))
    );
    let Ok(Job::RpcClient { n, .. }) = job_of(&["rpc-client", "--", "-1"]) else {
        panic!()
    };
    assert_eq!(n, "-1");
    let Ok(Job::Emit {
        envelope, messages, ..
    }) = job_of(&["emit-log-topic"])
    else {
        panic!()
    };
    assert_eq!(envelope.routing_key, "anonymous.info");
    assert_eq!(messages, Source::Words("Hello World!".into()));
}

#[test]
fn usage_errors_say_what_and_name_the_command() {
    let cases: [(&[&str], &str, &str); 8] = [
        (
            &["receive-logs-direct"],
            "receive-logs-direct",
            "no severity given: name the ones to receive, like info warning error",
        ),
        (
            &["receive-logs-topic"],
            "receive-logs-topic",
            "no binding key given: name at least one, like kern.* or *.critical or #",
        ),
        (
            &["receive-logs-headers"],
            "receive-logs-headers",
            "no header to match: give at least one KEY=VALUE, like format=pdf",
        ),
        (
            &["receive-logs-headers", "plain"],
            "receive-logs-headers",
            "'plain' is not a header to match: write KEY=VALUE, like format=pdf",
        ),
        (
            &["receive-logs-headers", "--match", "some", "a=b"],
            "receive-logs-headers",
            "--match must be all or any, not 'some'",
        ),
        (
            &["receive-logs-headers", "x-match=any"],
            "receive-logs-headers",
            "header 'x-match': names starting with x- are the broker's (use --match for x-match)",
        ),
        (
            &["new-task", "--stdin", "a", "b"],
            "new-task",
            "new-task --stdin reads the messages from stdin; remove 'a b' from the arguments",
        ),
        (
            &["bench", "--size", "8"],
            "bench",
            "--size must be at least 16 (sequence number and timestamp), not 8",
        ),
    ];
    for (words, command, what) in cases {
        assert_eq!(usage(words), (what.to_owned(), Some(command)), "{words:?}");
    }
    assert!(job_of(&["receive-logs-headers", "--match", "any", "a=b"]).is_ok());
    // Only the words after the routing key are a message.
    assert!(job_of(&["emit-log-direct", "--stdin", "error"]).is_ok());
    assert!(job_of(&["emit-log-direct", "--stdin", "error", "x"]).is_err());
    let e = job_of(&["rpc-client", "--concurrency", "1000000"]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--concurrency must be at most 100000, not 1000000"
    );
    assert_eq!(common::exit::ExitStatus::exit_code(&e), 2);
}

#[test]
fn leading_pairs_are_headers() {
    let words: Vec<String> = ["format=pdf", "type=report", "a", "b=c"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let (h, rest) = split_headers("emit-log-headers", &words).unwrap();
    assert_eq!(
        h,
        [
            ("format".into(), "pdf".into()),
            ("type".into(), "report".into())
        ]
    );
    assert_eq!(rest, ["a", "b=c"]);
}
