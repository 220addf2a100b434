//! Property tests of the address parser: every socket address round-trips, bad ports are refused.
//! (That no input panics is checked inside the crate, with a resolver that never uses DNS.)

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use common::addr::{AddrErrorKind, parse_connect_addr, parse_listen_addr};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// 2000 cases, and the failures proptest has found kept where every crate keeps them: under
/// the crate's `proptest-regressions/` (proptest's default for a test beside a `main.rs` would be
/// `tests/proptest-regressions/`).
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/addr_props.txt"
        )))),
        ..ProptestConfig::with_cases(2000)
    }
}

fn socket_addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<u32>(), 1u16..)
            .prop_map(|(ip, port)| { SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(ip), port)) }),
        (any::<u128>(), 1u16.., any::<u32>()).prop_map(|(ip, port, scope)| {
            SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(ip), port, 0, scope))
        }),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn socket_addrs_round_trip(addr in socket_addr()) {
        prop_assert_eq!(parse_connect_addr(&addr.to_string()).unwrap(), addr);
        prop_assert_eq!(parse_listen_addr(&addr.to_string()).unwrap(), addr);
    }

    #[test]
    fn bare_ports(port in 1u16..) {
        let addr = parse_connect_addr(&port.to_string()).unwrap();
        prop_assert_eq!(addr, SocketAddr::from(([127, 0, 0, 1], port)));
    }

    #[test]
    fn non_digit_ports_are_refused(port in "[0-9]*[^0-9:\\]][0-9]*") {
        // Surrounding white space is trimmed, so a port of digits and spaces is fine.
        prop_assume!(!port.trim().bytes().all(|b| b.is_ascii_digit()));
        let err = parse_connect_addr(&format!("127.0.0.1:{port}")).unwrap_err();
        prop_assert!(err.to_string().ends_with("Ports must be integers."));
        prop_assert_eq!(err.kind, AddrErrorKind::PortNotInteger);
    }

    #[test]
    fn big_ports_are_refused(port in 65536u64..) {
        let err = parse_connect_addr(&format!("localhost:{port}")).unwrap_err();
        prop_assert_eq!(err.kind, AddrErrorKind::PortOutOfRange { min: 1 });
    }
}
