//! Handshakes with a rustls server in memory: trust, names, --insecure, client certificates.

use super::*;

#[test]
fn a_server_signed_by_the_cacert_is_trusted() {
    let pki = Pki::new();
    let tls = pki.options(Some("ca.pem"), None).load().unwrap();
    handshake(&tls, pki.server("server", false), "127.0.0.1").unwrap();
    handshake(&tls, pki.server("server", false), "localhost").unwrap();
    // A bundle with another CA first.
    let tls = pki.options(Some("bundle.pem"), None).load().unwrap();
    handshake(&tls, pki.server("server", false), "localhost").unwrap();
}

#[test]
fn a_server_of_an_unknown_ca_is_not() {
    let pki = Pki::new();
    for tls in [
        TlsOptions::default().load().unwrap(), // the system's roots
        pki.options(Some("other-ca.pem"), None).load().unwrap(),
    ] {
        let e = handshake(&tls, pki.server("server", false), "localhost").unwrap_err();
        assert_eq!(
            describe(&e),
            "the server's certificate is not signed by a trusted CA (give its CA with --cacert)"
        );
    }
}

#[test]
fn a_server_certificate_for_another_name_does_not_match() {
    let pki = Pki::new();
    let tls = pki.options(Some("ca.pem"), None).load().unwrap();
    let e = handshake(&tls, pki.server("wrong-name", false), "localhost").unwrap_err();
    assert_eq!(
        describe(&e),
        "the server's certificate is for elsewhere.invalid, not localhost"
    );
    let e = handshake(&tls, pki.server("server", false), "example.com").unwrap_err();
    assert_eq!(
        describe(&e),
        "the server's certificate is for 127.0.0.1, localhost, not example.com"
    );
}

#[test]
fn insecure_accepts_any_certificate() {
    let pki = Pki::new();
    let mut o = pki.options(Some("other-ca.pem"), None);
    o.insecure = true;
    let tls = o.load().unwrap();
    handshake(&tls, pki.server("wrong-name", false), "localhost").unwrap();
    let tls = TlsOptions {
        insecure: true,
        ..TlsOptions::default()
    }
    .load()
    .unwrap();
    handshake(&tls, pki.server("server", false), "example.com").unwrap();
    assert_eq!(
        INSECURE_WARNING,
        "warning: --insecure: the server's certificate is not checked"
    );
}

#[test]
fn a_client_certificate_is_presented_and_checked_by_the_server() {
    let pki = Pki::new();
    let tls = pki.options(Some("ca.pem"), Some("client")).load().unwrap();
    handshake(&tls, pki.server("server", true), "localhost").unwrap();

    let without = pki.options(Some("ca.pem"), None).load().unwrap();
    let e = handshake(&without, pki.server("server", true), "localhost").unwrap_err();
    assert_eq!(
        describe(&e),
        "the server requires a client certificate (give one with --cert and --key)"
    );

    let stranger = pki
        .options(Some("ca.pem"), Some("other-client"))
        .load()
        .unwrap();
    let e = handshake(&stranger, pki.server("server", true), "localhost").unwrap_err();
    assert_eq!(
        describe(&e),
        "the server refused the client certificate (unknown CA)"
    );
}

#[test]
fn the_crypto_provider_is_installed_once() {
    install_crypto_provider();
    install_crypto_provider();
    let provider = CryptoProvider::get_default().expect("installed");
    let ring = rustls::crypto::ring::default_provider();
    assert_eq!(provider.cipher_suites.len(), ring.cipher_suites.len());
    // What the redis crate does: the default builder works.
    let _ = ClientConfig::builder()
        .with_root_certificates(RootCertStore::empty())
        .with_no_client_auth();
}

#[test]
fn a_plain_text_answer_is_not_tls() {
    let tls = TlsOptions::default().load().unwrap();
    for answer in [
        &b"AMQP\x00\x00\x09\x01"[..],
        b"-ERR unknown command\r\n",
        b"HTTP/1.1 400 Bad Request\r\n\r\n",
    ] {
        let config = tls.rustls_client_config().unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let mut c = rustls::ClientConnection::new(config, name).unwrap();
        let mut hello = Vec::new();
        c.write_tls(&mut hello).unwrap();
        let mut rest = answer;
        c.read_tls(&mut rest).unwrap();
        let e = c.process_new_packets().unwrap_err();
        assert_eq!(
            describe(&e),
            "the server does not speak TLS (a plain-text server behind a TLS URL?)",
            "{e:?}"
        );
    }
}
