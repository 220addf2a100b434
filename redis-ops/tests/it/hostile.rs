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
