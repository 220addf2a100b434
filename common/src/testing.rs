//! Support for the crates' integration tests: checks every binary's `--help` and `--version` the
//! same way. (Test code, but a plain module: integration tests only see a crate's public API.)

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::process::Command;

use rustix::net::{AddressFamily, SocketType, bind, getsockname, socket};

/// Runs `bin args`, expects exit 0 and nothing on stderr, returns stdout.
///
/// # Panics
/// When the binary cannot run, fails, writes to stderr or prints something that is not UTF-8.
pub fn stdout_of(bin: &str, args: &[&str]) -> String {
    let out = Command::new(bin)
        .args(args)
        .output()
        .expect("run the binary");
    assert_eq!(out.status.code(), Some(0), "{bin} {args:?}: {out:?}");
    assert!(out.stderr.is_empty(), "{bin} {args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Checks that `bin --help` starts with the usage line of `name`, has the `description`
/// paragraph and an Examples section with at least two `$ name ...` commands, and that
/// `bin --version` prints `<name> <version>`.
///
/// # Panics
/// On the first of those that does not hold, with the help text.
pub fn check_help(bin: &str, name: &str, description: &str, version: &str) {
    let help = stdout_of(bin, &["--help"]);
    assert!(help.starts_with(&format!("Usage: {name} ")), "{help}");
    assert!(help.contains(&format!("\n\n{description}")), "{help}");
    let examples = help
        .split("\n\nExamples:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no Examples section:\n{help}"));
    let examples = examples.split("\n\n").next().unwrap_or_default();
    let commands = examples
        .lines()
        .filter(|l| l.trim_start().starts_with("$ ") && l.contains(name))
        .count();
    assert!(commands >= 2, "fewer than two example commands:\n{help}");
    assert_eq!(
        stdout_of(bin, &["--version"]),
        format!("{name} {version}\n")
    );
}

/// A TCP address on 127.0.0.1 where nothing listens, so connecting is refused, and where nothing
/// will listen for as long as this process lives: the port is held by a socket that is bound but
/// never listens (the kernel answers a connection to it with a reset). The socket is leaked on
/// purpose. A port merely found free and released could be taken by a test running in parallel.
///
/// # Panics
/// When no socket can be made or bound.
pub fn refused_addr() -> SocketAddr {
    let fd = socket(AddressFamily::INET, SocketType::STREAM, None).expect("a TCP socket");
    bind(
        &fd,
        &SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)),
    )
    .expect("bind 127.0.0.1:0");
    let addr = getsockname(&fd).expect("its address");
    let addr = SocketAddr::try_from(addr).expect("an IPv4 address");
    std::mem::forget(fd);
    addr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_addr_is_refused_and_reserved() {
        let addr = refused_addr();
        let err = std::net::TcpStream::connect(addr).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        assert!(
            std::net::TcpListener::bind(addr).is_err(),
            "the port is still free"
        );
    }
}
