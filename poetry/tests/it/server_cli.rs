//! The poetry-server binary: its first line, its usage errors, its signals, and a round trip
//! through the poetry-client binary.

use test_support::{Signal, silent_listener, temp_file};

use super::support::{Background, CLIENT, SERVER, poem, poem_path, run_bin, s};

#[test]
fn serves_a_poem_to_the_client_binary_byte_for_byte_and_stops_on_sigterm() {
    let path = poem_path("alla_sera.txt");
    let file = path.to_str().unwrap();
    let bg = Background::start(SERVER, &s(&["--port", "0", file]));
    let prefix = format!("Serving {file} on 127.0.0.1:");
    assert!(
        bg.first_line.starts_with(&prefix) && bg.first_line.ends_with('.'),
        "{}",
        bg.first_line
    );
    let addr = bg.addr().to_string();
    let out = run_bin(CLIENT, &s(&[&addr, &addr]));
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
    let poem = poem("alla_sera.txt");
    assert_eq!(out.stdout, [&poem[..], &poem].concat());
    let (code, stderr) = bg.signal(Signal::Term);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "poetry-server: served 2 poem(s), 1154 bytes, to 2 connection(s); 0 cut short"
        ),
        "{stderr}"
    );
}

#[test]
fn slow_mode_and_sigint() {
    let path = poem_path("science.txt");
    let bg = Background::start(
        SERVER,
        &s(&[
            "--port",
            "0",
            "--delay",
            "0.001",
            "--num-bytes",
            "64",
            path.to_str().unwrap(),
        ]),
    );
    let out = run_bin(CLIENT, &[bg.addr().to_string()]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, poem("science.txt"));
    let (code, stderr) = bg.signal(Signal::Int);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("served 1 poem(s)"), "{stderr}");
}

#[test]
fn usage_errors_exit_2_with_the_tutorials_words() {
    let poem = poem_path("science.txt");
    let poem = poem.to_str().unwrap();
    for (args, says) in [
        (s(&[]), "error: Provide exactly one poetry file."),
        (s(&[poem, poem]), "error: Provide exactly one poetry file."),
        (
            s(&["no/such/poem.txt"]),
            "error: No such file: no/such/poem.txt",
        ),
        (s(&[poem, "--delay", "-1"]), "--delay"),
        (
            s(&[poem, "--delay", "1", "--num-bytes", "0"]),
            "--num-bytes",
        ),
        (s(&[poem, "--max-connections", "0"]), "--max-connections"),
        (s(&[poem, "--port", "x"]), "--port"),
    ] {
        let out = run_bin(SERVER, &args);
        assert_eq!(out.code(), Some(2), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn a_port_in_use_exits_1() {
    let (_taken, addr) = silent_listener();
    let port = addr.port().to_string();
    let poem = poem_path("science.txt");
    let out = run_bin(SERVER, &s(&["--port", &port, poem.to_str().unwrap()]));
    assert_eq!(out.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with(&format!("error: cannot listen on 127.0.0.1:{port}: ")),
        "{}",
        out.stderr
    );
}

#[test]
fn an_empty_poem_file_is_served_but_clients_call_it_a_failure() {
    let (_dir, path) = temp_file("empty.txt", b"");
    let bg = Background::start(SERVER, &s(&["--port", "0", path.to_str().unwrap()]));
    let out = run_bin(CLIENT, &[bg.addr().to_string()]);
    assert_eq!(out.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr
            .contains("the server closed the connection without sending a poem"),
        "{}",
        out.stderr
    );
}
