//! Issue 13, benchmarks that reported success on failure: `bench` against a server that
//! closes, resets, answers garbage, is RabbitMQ, or refuses every command, exits 1 with one line
//! saying nothing succeeded (it used to exit 0), within `--timeout` + `--retry-for`.

use std::time::Duration;

use crate::support::*;

fn bench(url: &str) -> Measured {
    measured(
        &mut at(
            url,
            &args("--timeout 1 bench -q -t set -n 1000 -c 2 --retry-for 1"),
        ),
        b"",
        Duration::from_secs(30),
    )
}

fn assert_failed(m: &Measured, starts: &str) {
    let r = &m.run;
    assert_one_line(r, 1, starts);
    assert!(r.stdout.is_empty(), "{r:?}");
    // --retry-for 1 after the first break, each attempt within --timeout 1, the clean-up too.
    assert!(r.took < Duration::from_secs(4), "{r:?}");
    assert!(m.peak_kib < 64 * 1024, "{} KiB: {r:?}", m.peak_kib);
}

#[test]
fn bench_against_a_peer_that_closes_or_resets_exits_1() {
    for peer in [Peer::Closes, Peer::Resets] {
        let m = bench(&fake_peer(peer));
        assert_failed(&m, "error: bench: nothing succeeded: SET: ");
    }
}

#[test]
fn bench_against_garbage_or_rabbitmq_exits_1() {
    let m = bench(&fake_peer(Peer::Garbage));
    assert_failed(
        &m,
        "error: SET: the reply is not RESP (is this a Redis server?): protocol error: ",
    );
    let m = bench(&fake_peer(Peer::Amqp));
    assert_failed(
        &m,
        "error: SET: the reply is not RESP (is this a Redis server?): protocol error: ",
    );
}

#[test]
fn bench_where_every_command_is_refused_exits_1() {
    let r = PrivateRedis::start_with(&["--rename-command", "SET", "\"\""]);
    let m = bench(&r.url());
    assert_failed(
        &m,
        "error: bench: nothing succeeded: SET: 1000 request(s) failed, 0 not sent, 0 reconnect(s); first: ERR unknown command 'SET'",
    );
}

/// Issue 22.4: a peer whose reply line never ends (`+` then bytes without a CRLF) is one error
/// line and exit 1 for every command, within `--timeout` (and a little more), in bounded memory
/// (it took `get` to 855 MB and 23 s with `--timeout 20`).
#[test]
fn a_reply_line_that_never_ends_is_refused_in_bounded_memory_and_time() {
    let lines = on_the_crate_and(&[
        "ping",
        "bench -q -t set -n 1000 -c 2 --retry-for 1",
        "--cluster URL get k",
    ]);
    let url = fake_peer(Peer::Endless);
    let bounds = (Duration::from_millis(4500), 64);
    assert_each_refused(&url, &lines, bounds, "endless line");
}

/// Runs each of `lines` (`URL` in one stands for `url`; the others get `--url url`) with
/// `--timeout 3`: exit 1, one `error: ` line, within `took`, under `mib` MiB.
fn assert_each_refused(url: &str, lines: &[&str], (took, mib): (Duration, u64), what: &str) {
    for line in lines {
        let line = line.replace("URL", url);
        let mut c = if line.starts_with("--cluster") {
            bare()
        } else {
            at(url, &[])
        };
        c.args(["--timeout", "3"]).args(args(&line));
        let m = measured(&mut c, b"", Duration::from_mins(1));
        let r = &m.run;
        let what = format!("{what}: {line}: {r:?}");
        assert_eq!(r.code(), Some(1), "{what}");
        assert_eq!(r.stderr_lines().len(), 1, "{what}");
        assert!(r.stderr.starts_with("error: "), "{what}");
        assert!(r.took < took, "{what}: took {:?}", r.took);
        assert!(m.peak_kib < mib * 1024, "{what}: {} KiB", m.peak_kib);
    }
}

/// Issue 22.4, the rest: a peer that says the hello as a Redis does and then answers a command
/// with a reply that never ends, in each of its shapes (a line, a huge array, arrays without
/// end, nesting without end, a huge bulk string, and three that a scanner reading lines or
/// lengths otherwise than the crate would let through: a bare LF, a negative blob length,
/// `$-0`), is one error line and exit 1, at once, in
/// bounded memory, for every command on every kind of connection the redis crate runs for us
/// (multiplexed, subscriber, pooled, reconnecting, cluster) and on our own link (`bench`). The
/// crate alone buffered such a reply until the timeout.
#[test]
fn an_endless_reply_after_the_hello_is_refused_in_bounded_memory_and_time() {
    let lines = on_the_crate_and(&[
        "bench -q -t get -n 1000 -c 2 --retry-for 1",
        "--cluster URL get k",
    ]);
    for endless in Endless::ALL {
        let url = polite_peer(endless);
        let what = format!("{endless:?}");
        // `pool` runs four connections at once (two pooled, its admin and its sampler), each
        // of which may hold up to 262,144 values of the crate's before the bound: some 15 MB.
        let bounds = (Duration::from_secs(2), 96);
        assert_each_refused(&url, &lines, bounds, &what);
    }
}

/// A GET answered in part and then never finished: `ping` says so in one line, within its
/// timeout. The DEL it sends next on the same link starts afresh: the scanner that followed the
/// cut reply is dropped with its bytes (it used to look for them, and panicked).
#[test]
fn a_reply_cut_short_then_silence_is_one_line_for_ping() {
    let url = cut_short_peer();
    let r = run_with(
        &mut at(&url, &args("--timeout 1 ping")),
        b"",
        Duration::from_secs(20),
    );
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert_eq!(r.stderr_lines().len(), 1, "{r:?}");
    assert!(r.stderr.starts_with("error: "), "{r:?}");
    assert!(r.took < Duration::from_secs(4), "{r:?}");
}
