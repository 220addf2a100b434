//! Private keys of every PEM kind become PKCS#8 (for native-tls).

use super::*;

/// A SEC1 `EC PRIVATE KEY` (with and without its curve) is converted to a PKCS#8 key that still
/// belongs to the certificate.
#[test]
fn sec1_keys_become_pkcs8() {
    let pki = Pki::new();
    let original = PrivateKeyDer::from_pem_slice(&pki.read("client.key")).unwrap();
    let PrivateKeyDer::Pkcs8(p8) = &original else {
        panic!("rcgen writes PKCS#8");
    };
    // PrivateKeyInfo { version, algorithm, OCTET STRING { ECPrivateKey } }
    let (_, body, _) = files_tlv(p8.secret_pkcs8_der());
    let (_, _, rest) = files_tlv(body);
    let (_, _, rest) = files_tlv(rest);
    let (_, sec1, _) = files_tlv(rest);
    // ring's ECPrivateKey has no [0] parameters: add them for the second file.
    let (_, fields, _) = files_tlv(sec1);
    let (_, _, after_version) = files_tlv(fields);
    let (_, _, after_secret) = files_tlv(after_version);
    let head = &fields[..fields.len() - after_secret.len()];
    let p256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let params = der(0xa0, &p256);
    let with_params = der(0x30, &[head, &params, after_secret].concat());
    for (name, sec1) in [("bare", sec1.to_vec()), ("named", with_params)] {
        let pem = pem_of("EC PRIVATE KEY", &sec1);
        let file = pki.write(&format!("{name}.key"), &pem);
        let mut o = pki.options(None, Some("client"));
        o.key = Some(file);
        let tls = o.load().unwrap();
        assert!(matches!(
            PrivateKeyDer::from_pem_slice(tls.client_key_pem().unwrap()).unwrap(),
            PrivateKeyDer::Sec1(_)
        ));
        let converted = pki.write(
            &format!("{name}-pkcs8.key"),
            std::str::from_utf8(tls.client_key_pkcs8_pem().unwrap()).unwrap(),
        );
        let mut again = pki.options(None, Some("client"));
        again.key = Some(converted);
        let tls = again
            .load()
            .expect("the converted key matches the certificate");
        assert!(matches!(
            PrivateKeyDer::from_pem_slice(tls.client_key_pem().unwrap()).unwrap(),
            PrivateKeyDer::Pkcs8(_)
        ));
    }
}

/// A PKCS#1 `RSA PRIVATE KEY` (made by the openssl command) becomes the very PKCS#8 that openssl
/// makes of it.
#[test]
fn pkcs1_rsa_keys_become_pkcs8() {
    let pki = Pki::new();
    let (cert, key8, key1) = (
        pki.path("rsa.pem"),
        pki.path("rsa8.key"),
        pki.path("rsa1.key"),
    );
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=rsa",
        "-days",
        "2",
        "-keyout",
        path(&key8),
        "-out",
        path(&cert),
    ]);
    openssl(&[
        "pkey",
        "-in",
        path(&key8),
        "-traditional",
        "-out",
        path(&key1),
    ]);
    assert!(
        String::from_utf8(pki.read("rsa1.key"))
            .unwrap()
            .contains("BEGIN RSA PRIVATE KEY")
    );
    let tls = TlsOptions {
        cert: Some(cert),
        key: Some(key1),
        ..TlsOptions::default()
    }
    .load()
    .unwrap();
    let converted = PrivateKeyDer::from_pem_slice(tls.client_key_pkcs8_pem().unwrap()).unwrap();
    let theirs = PrivateKeyDer::from_pem_slice(&pki.read("rsa8.key")).unwrap();
    assert!(matches!(converted, PrivateKeyDer::Pkcs8(_)));
    assert_eq!(converted.secret_der(), theirs.secret_der());
}

fn openssl(args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .output()
        .expect("this test needs the openssl command (apt-get install openssl)");
    assert!(out.status.success(), "openssl {args:?}: {out:?}");
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn files_tlv(input: &[u8]) -> (u8, &[u8], &[u8]) {
    files::read_tlv(input).expect("DER")
}

fn der(tag: u8, value: &[u8]) -> Vec<u8> {
    files::tlv(tag, value)
}

fn pem_of(label: &str, der: &[u8]) -> String {
    String::from_utf8(files::pem_block(label, der)).unwrap()
}
