//! The command line as a user meets it before anything is connected: what argh's parsers
//! refuse, the tutorials' defaults, and the usage errors of each command's checks, each naming
//! its command, through [`run`] itself.

use std::ffi::OsString;
use std::time::Duration;

use argh::{FromArgs, SubCommand};
use common::cli::{Parsed, parse_from};
use common::output::Out;

use super::producer::{Emitter, Source};
use super::*;

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

/// The subcommand `T` of `words` (its name first), as `rabbit-ops <words>` parses it.
fn command<T: FromArgs + SubCommand>(words: &[&str]) -> T {
    let (name, rest) = words.split_first().expect("a subcommand");
    assert_eq!(*name, T::COMMAND.name, "{words:?}");
    T::from_args(&["rabbit-ops", name], rest).unwrap_or_else(|e| panic!("{words:?}: {}", e.output))
}

/// What the command line `words` comes to before anything is connected: the usage error of
/// the command's checks, or `Ok` when they all passed (the broker's URL, `bad://`, is then
/// refused: still no connection).
fn check(words: &[&str]) -> Result<(), Error> {
    let mut all = vec!["--url", "bad://"];
    all.extend(words);
    match run(args(&all), &mut Out::new(Vec::new())) {
        Err(Error::BadUrl { .. }) => Ok(()),
        Err(e) => Err(e),
        Ok(()) => panic!("{words:?}: ran without a broker"),
    }
}

/// The usage error of `words`: its message and the command whose help it points to.
fn usage(words: &[&str]) -> (String, Option<&'static str>) {
    match check(words) {
        Err(Error::Usage { what, command }) => (what, command),
        other => panic!("{words:?}: not a usage error: {other:?}"),
    }
}

#[test]
fn counts_and_seconds_are_checked_by_the_parser() {
    assert_eq!(values::positive("3"), Ok(3));
    assert!(values::positive("0").is_err());
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
    let send::Options { queue, message } = send::check(command(&["send"])).unwrap();
    assert_eq!(
        (queue.name.as_str(), message.as_str()),
        ("hello", "Hello World!")
    );
    let new_task::Options {
        queue,
        tasks,
        publish,
    } = new_task::check(command(&["new-task", "First", "message."])).unwrap();
    assert_eq!(queue.name, "task_queue");
    assert_eq!(tasks, Source::Words("First message.".into()));
    assert!(publish.confirm);
    let rpc_client::Options {
        n,
        concurrency,
        timeout,
        ..
    } = rpc_client::check(command(&["rpc-client"])).unwrap();
    assert_eq!(
        (n.as_str(), concurrency, timeout),
        ("30", 1, Duration::from_secs(10))
    );
    let rpc_client::Options { n, .. } =
        rpc_client::check(command(&["rpc-client", "--", "-1"])).unwrap();
    assert_eq!(n, "-1");
    let Emitter {
        envelope, messages, ..
    } = emit_log_topic::check(command(&["emit-log-topic"])).unwrap();
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
    assert!(check(&["receive-logs-headers", "--match", "any", "a=b"]).is_ok());
    // Only the words after the routing key are a message.
    assert!(check(&["emit-log-direct", "--stdin", "error"]).is_ok());
    assert!(check(&["emit-log-direct", "--stdin", "error", "x"]).is_err());
    let e = check(&["rpc-client", "--concurrency", "1000000"]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--concurrency must be at most 100000, not 1000000"
    );
    assert_eq!(common::exit::ExitStatus::exit_code(&e), 2);
}
