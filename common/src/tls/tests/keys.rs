//! Private keys of every PEM kind (PKCS#8, SEC1 `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`) are
//! loaded, handed over as read, and sign a client certificate's handshake.

use super::*;

/// A SEC1 `EC PRIVATE KEY` (what `openssl ec` writes of the PKCS#8 `client.key`) is loaded as
/// SEC1 and presented to a server that checks client certificates.
#[test]
fn sec1_keys_are_loaded_and_presented() {
    let pki = Pki::new();
    let sec1 = pki.path("client-sec1.key");
    openssl(&[
        "ec",
        "-in",
        path(&pki.path("client.key")),
        "-out",
        path(&sec1),
    ]);
    assert!(
        String::from_utf8(pki.read("client-sec1.key"))
            .unwrap()
            .contains("BEGIN EC PRIVATE KEY")
    );
    let mut o = pki.options(Some("ca.pem"), Some("client"));
    o.key = Some(sec1);
    let tls = o.load().expect("a SEC1 key of the certificate");
    assert_eq!(
        tls.client_key_pem(),
        Some(pki.read("client-sec1.key").as_slice())
    );
    assert!(matches!(
        PrivateKeyDer::from_pem_slice(tls.client_key_pem().unwrap()).unwrap(),
        PrivateKeyDer::Sec1(_)
    ));
    handshake(&tls, pki.server("server", true), "localhost").expect("the server takes it");
}

/// A PKCS#1 `RSA PRIVATE KEY` (made by the openssl command, for a certificate the test CA
/// signs) is loaded as PKCS#1 and presented to a server that checks client certificates.
#[test]
fn pkcs1_rsa_keys_are_loaded_and_presented() {
    let pki = Pki::new();
    let (key8, csr, cert, key1) = (
        pki.path("rsa8.key"),
        pki.path("rsa.csr"),
        pki.path("rsa.pem"),
        pki.path("rsa1.key"),
    );
    let ext = pki.write(
        "rsa.ext",
        "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
    );
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=rsa",
        "-keyout",
        path(&key8),
        "-out",
        path(&csr),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        path(&csr),
        "-CA",
        path(&pki.path("ca.pem")),
        "-CAkey",
        path(&pki.path("ca.key")),
        "-set_serial",
        "7",
        "-extfile",
        path(&ext),
        "-days",
        "2",
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
        cacert: Some(pki.path("ca.pem")),
        cert: Some(cert),
        key: Some(key1),
        ..TlsOptions::default()
    }
    .load()
    .expect("a PKCS#1 key of the certificate");
    assert_eq!(tls.client_key_pem(), Some(pki.read("rsa1.key").as_slice()));
    assert!(matches!(
        PrivateKeyDer::from_pem_slice(tls.client_key_pem().unwrap()).unwrap(),
        PrivateKeyDer::Pkcs1(_)
    ));
    handshake(&tls, pki.server("server", true), "localhost").expect("the server takes it");
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
