//! Loading the flags: what is refused, and what is handed over.

use super::*;

#[test]
fn cert_and_key_come_together() {
    let pki = Pki::new();
    let without_key = |o: &mut TlsOptions| o.key = None;
    let without_cert = |o: &mut TlsOptions| o.cert = None;
    for (leave_out, expected) in [
        (
            without_key as fn(&mut TlsOptions),
            "error: --cert needs --key (the private key of the client certificate)",
        ),
        (
            without_cert,
            "error: --key needs --cert (the client certificate)",
        ),
    ] {
        let mut o = pki.options(None, Some("client"));
        leave_out(&mut o);
        let e = o.load().unwrap_err();
        assert_eq!(message(&e), expected);
        assert_eq!(e.exit_code(), USAGE);
    }
}

#[test]
fn nothing_given_loads_nothing_and_trusts_the_system() {
    let o = TlsOptions::default();
    assert_eq!(o.first_given(), None);
    let tls = o.load().unwrap();
    assert!(!tls.insecure() && !tls.has_client_cert());
    assert_eq!(tls.ca_pem(), None);
    assert_eq!(tls.ca_certs_der().count(), 0);
    assert_eq!(tls.client_key_pem(), None);
    // This machine has a system bundle (ca-certificates).
    tls.rustls_client_config().unwrap();
    let insecure = TlsOptions {
        insecure: true,
        ..TlsOptions::default()
    };
    assert_eq!(insecure.first_given(), Some("--insecure"));
    assert!(insecure.load().unwrap().insecure());
}

#[test]
fn an_unreadable_file_names_the_flag_and_the_file() {
    let pki = Pki::new();
    let missing = pki.path("nope.pem");
    let o = TlsOptions {
        cacert: Some(missing.clone()),
        ..TlsOptions::default()
    };
    assert_eq!(o.first_given(), Some("--cacert"));
    let e = o.load().unwrap_err();
    assert_eq!(
        message(&e),
        format!(
            "error: cannot read --cacert '{}': not found",
            missing.display()
        )
    );
    assert_eq!(e.exit_code(), USAGE);

    let mut o = pki.options(None, Some("client"));
    o.key = Some(pki.dir().to_owned()); // a folder
    let e = o.load().unwrap_err();
    let text = message(&e);
    assert!(
        text.starts_with(&format!(
            "error: cannot read --key '{}': ",
            pki.dir().display()
        )),
        "{text}"
    );
}

#[test]
fn only_a_regular_file_of_at_most_a_mebibyte_is_read() {
    let pki = Pki::new();
    let big = pki.path("big.pem");
    fs::write(&big, vec![b'-'; MAX_PEM_FILE + 1]).unwrap();
    for (file, why) in [
        (PathBuf::from("/dev/zero"), "not a regular file".to_owned()),
        (big, "larger than 1048576 bytes".to_owned()),
    ] {
        let o = TlsOptions {
            cacert: Some(file.clone()),
            ..TlsOptions::default()
        };
        let e = o.load().unwrap_err();
        assert_eq!(
            message(&e),
            format!("error: cannot read --cacert '{}': {why}", file.display())
        );
        assert_eq!(e.exit_code(), USAGE);
    }
}

#[test]
fn files_without_what_they_should_hold_are_named_without_their_content() {
    let pki = Pki::new();
    let key_text = String::from_utf8(pki.read("client.key")).unwrap();
    let secret_line = key_text.lines().nth(1).unwrap().to_owned();
    // The files that hold something else: DER, not PEM; a block cut short; bad base64 in the
    // key; an encrypted key.
    let der = CertificateDer::from_pem_slice(&pki.read("ca.pem")).unwrap();
    fs::write(pki.path("ca.der"), der.as_ref()).unwrap();
    let ca = String::from_utf8(pki.read("ca.pem")).unwrap();
    pki.write("cut.pem", &ca[..ca.len() - 30]);
    let mangled = key_text.replacen(&secret_line, &secret_line.replace('A', "!"), 1);
    let mangled = if mangled == key_text {
        key_text.replacen(&secret_line, &format!("!{}", &secret_line[1..]), 1)
    } else {
        mangled
    };
    pki.write("mangled.key", &mangled);
    pki.write(
        "encrypted.key",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    // `file` given as the CA, or as the key of the client certificate.
    let cacert = |file| (pki.options(Some(file), None), "--cacert", file);
    let key = |file| {
        let mut o = pki.options(None, Some("client"));
        o.key = Some(pki.path(file));
        (o, "--key", file)
    };
    let another_key = format!(
        "not the private key of the certificate in --cert '{}'",
        pki.path("client.pem").display()
    );
    for ((o, flag, file), problem) in [
        // A key given as the CA.
        (
            cacert("client.key"),
            "no certificate in it (expected '-----BEGIN CERTIFICATE-----')",
        ),
        // A certificate given as the key.
        (
            key("client.pem"),
            "no private key in it (expected '-----BEGIN PRIVATE KEY-----', 'RSA PRIVATE KEY' or \
             'EC PRIVATE KEY')",
        ),
        (
            cacert("ca.der"),
            "no PEM certificate in it (no '-----BEGIN' line: a DER file must be converted to PEM first)",
        ),
        (cacert("cut.pem"), "a PEM block has no '-----END' line"),
        (key("mangled.key"), "a PEM block is not valid base64"),
        (
            key("encrypted.key"),
            "the private key is encrypted: decrypt it first (openssl pkey -in KEY -out PLAIN)",
        ),
        // The key of another certificate.
        (key("server.key"), another_key.as_str()),
    ] {
        let e = o.load().unwrap_err();
        let text = message(&e);
        assert_eq!(
            text,
            format!("error: {flag} '{}': {problem}", pki.path(file).display())
        );
        assert!(!text.contains(&secret_line), "no key material: {text}");
        assert_eq!(e.exit_code(), USAGE);
    }
    // A CA file whose certificate does not parse.
    let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    pki.write("garbage.pem", garbage);
    let e = pki.options(Some("garbage.pem"), None).load().unwrap_err();
    assert!(
        message(&e).starts_with(&format!(
            "error: --cacert '{}': certificate 1 of 1 is not valid: ",
            pki.path("garbage.pem").display()
        )),
        "{}",
        message(&e)
    );
}

#[test]
fn the_pem_bytes_are_handed_over_as_read() {
    let pki = Pki::new();
    let tls = pki
        .options(Some("bundle.pem"), Some("client"))
        .load()
        .unwrap();
    assert_eq!(tls.ca_pem(), Some(pki.read("bundle.pem").as_slice()));
    assert_eq!(tls.ca_certs_der().count(), 2);
    assert_eq!(
        tls.client_cert_pem(),
        Some(pki.read("client.pem").as_slice())
    );
    assert_eq!(
        tls.client_key_pem(),
        Some(pki.read("client.key").as_slice())
    );
    let debug = format!("{tls:?}");
    assert_eq!(
        debug,
        "Tls { cacert: Some(2), client_cert: Some(\"<certificate and key>\"), insecure: false }"
    );
}

#[test]
fn system_roots_errors_name_the_way_out() {
    let e = TlsError::SystemRoots {
        detail: "none found".into(),
    };
    assert_eq!(
        message(&e),
        "error: cannot load the system's trusted certificates (none found): give the server's CA \
         with --cacert"
    );
    assert_eq!(e.exit_code(), FAILURE);
}
