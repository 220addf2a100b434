//! `publish` / `subscribe`: messages arrive in order, `--count` and `--timeout` end it.

use std::time::Duration;

use crate::support::*;

/// Starts `subscribe ARGS` and waits until it says (on stderr) it is subscribed.
fn subscriber(args: &[&str]) -> Proc {
    let mut p = Proc::spawn(cmd().arg("subscribe").args(args));
    let seen = p.wait_for_err_line(|l| l.starts_with("subscribed to "), STEP);
    assert_eq!(seen.len(), 1, "{seen:?}");
    p
}

#[test]
fn messages_arrive_in_order_and_count_ends_it() {
    let _ = redis();
    let channel = unique("fm104.5");
    let child = subscriber(&[&channel, "--count", "20", "--timeout", "30"]);
    for i in 1..=20 {
        let out = run(&["publish", &channel, &format!("song {i}")]);
        assert!(out.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "(integer) 1\n");
    }
    let out = child.finish(Duration::from_secs(30));
    assert!(out.success(), "{}", text(&out.stderr));
    let expected: Vec<String> = (1..=20).map(|i| format!("{channel}: song {i}")).collect();
    assert_eq!(text(&out.stdout), expected.join("\n") + "\n");
}

#[test]
fn several_channels_and_patterns() {
    let _ = redis();
    let (a, b) = (unique("a"), unique("b"));
    let child = subscriber(&[&a, &b, "--count", "2", "--timeout", "30"]);
    run(&["publish", &b, "to b"]);
    run(&["publish", &a, "to a"]);
    let out = child.finish(Duration::from_secs(30));
    assert_eq!(text(&out.stdout), format!("{b}: to b\n{a}: to a\n"));

    let base = unique("news");
    let pattern = format!("{base}.*");
    let child = subscriber(&["--pattern", &pattern, "--count", "2", "--timeout", "30"]);
    run(&["publish", &format!("{base}.sport"), "goal"]);
    run(&["publish", &format!("{base}-not-matching"), "ignored"]);
    run(&["publish", &format!("{base}.weather"), "rain"]);
    let out = child.finish(Duration::from_secs(30));
    assert_eq!(
        text(&out.stdout),
        format!("{base}.sport: goal\n{base}.weather: rain\n")
    );
}

#[test]
fn nobody_listening_means_zero_receivers() {
    let _ = redis();
    let out = run(&["publish", &unique("void"), "hello?"]);
    assert!(out.success());
    assert_eq!(text(&out.stdout), "(integer) 0\n");
}

#[test]
fn too_few_messages_before_the_timeout_is_exit_1() {
    let _ = redis();
    let channel = unique("quiet");
    let child = subscriber(&[&channel, "--count", "3", "--timeout", "1"]);
    run(&["publish", &channel, "only one"]);
    let out = child.finish(Duration::from_secs(30));
    assert_eq!(out.code(), Some(1));
    assert_eq!(text(&out.stdout), format!("{channel}: only one\n"));
    let rest: Vec<&str> = out.stderr_lines().into_iter().skip(1).collect();
    assert_eq!(
        rest,
        ["error: timed out after 1.0 s: 1 of 3 messages received"]
    );
}

#[test]
fn without_count_the_timeout_is_a_normal_end() {
    let _ = redis();
    let child = subscriber(&[&unique("idle"), "--timeout", "0.5"]);
    let out = child.finish(Duration::from_secs(30));
    assert!(out.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn subscribe_needs_a_channel() {
    let out = run(&["subscribe"]);
    assert_eq!(out.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: subscribe: name at least one channel\nRun 'redis-ops --help' for usage.\n"
    );
}
