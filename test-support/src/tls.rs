//! [`TestPki`]: certificates for TLS tests, made with rcgen in a temporary folder; and the
//! rustls client the private servers' readiness checks use.

use std::fs;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::services::temp_dir;

/// The only name in the [`ServerCert::WrongName`] certificate (a name that never resolves).
pub const WRONG_NAME: &str = "elsewhere.invalid";

/// Which certificate a TLS server of the tests presents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ServerCert {
    /// `server.pem`: for `127.0.0.1` and `localhost`, signed by the test CA (`ca.pem`).
    #[default]
    Trusted,
    /// `wrong-name.pem`: signed by the test CA too, but for [`WRONG_NAME`] only, so a client of
    /// 127.0.0.1 or localhost finds that the name does not match.
    WrongName,
}

/// What a TLS server of the tests asks of its clients' certificates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// It asks for none (Redis `--tls-auth-clients no`, RabbitMQ `verify_none`).
    #[default]
    No,
    /// It checks one if sent, against the test CA, and takes clients without one (Redis
    /// `optional`, RabbitMQ `verify_peer` with `fail_if_no_peer_cert = false`).
    Optional,
    /// It refuses clients without a certificate signed by the test CA (Redis `yes`, RabbitMQ
    /// `verify_peer` with `fail_if_no_peer_cert = true`).
    Required,
}

/// A test PKI in a temporary folder, made when created (a few milliseconds): PEM files, each
/// key unencrypted PKCS#8 (ECDSA P-256), valid from 2024 to 2049.
///
/// | file | what |
/// | --- | --- |
/// | `ca.pem`, `ca.key` | the test CA |
/// | `server.pem`, `server.key` | a server certificate for `127.0.0.1` and `localhost`, by the CA |
/// | `client.pem`, `client.key` | a client certificate (`CN=lessons-test-client`), by the CA |
/// | `wrong-name.pem`, `wrong-name.key` | a server certificate for [`WRONG_NAME`] only, by the CA |
/// | `other-ca.pem` | a second CA, unrelated: trusting it, nothing of the test CA verifies |
/// | `other-client.pem`, `other-client.key` | a client certificate by the other CA: refused |
///
/// Cheap to clone; the folder lives as long as a clone (each TLS server keeps one, since a
/// server may read its files again at a restart or a new connection).
///
/// ```no_run
/// use test_support::{ClientAuth, PrivateRedis, TestPki};
/// let pki = TestPki::new();
/// let r = PrivateRedis::start_tls(&pki, ClientAuth::Required);
/// // rediss://127.0.0.1:<port>, trusted with --cacert pki.ca(), and --cert pki.client_cert()
/// // --key pki.client_key() for the client certificate.
/// let url = r.url();
/// ```
#[derive(Clone, Debug)]
pub struct TestPki(Arc<tempfile::TempDir>);

impl TestPki {
    /// Makes the certificates and keys (see [`TestPki`]).
    ///
    /// # Panics
    /// When rcgen fails or the folder cannot be written.
    pub fn new() -> Self {
        let pki = Self(Arc::new(temp_dir("test-pki-")));
        let ca = pki.ca_files("ca", "lessons test CA");
        let other = pki.ca_files("other-ca", "lessons unrelated CA");
        let server = || ExtendedKeyUsagePurpose::ServerAuth;
        let client = || ExtendedKeyUsagePurpose::ClientAuth;
        pki.leaf_files(
            "server",
            &ca,
            &["127.0.0.1", "localhost"],
            "localhost",
            server(),
        );
        pki.leaf_files("wrong-name", &ca, &[WRONG_NAME], WRONG_NAME, server());
        pki.leaf_files("client", &ca, &[], "lessons-test-client", client());
        pki.leaf_files("other-client", &other, &[], "lessons-stranger", client());
        pki
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        self.0.path()
    }

    /// A file of the folder by name (`ca.pem`, `server.key`...).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir().join(name)
    }

    /// `ca.pem`: the test CA, for `--cacert`.
    pub fn ca(&self) -> PathBuf {
        self.path("ca.pem")
    }

    /// `other-ca.pem`: an unrelated CA (a `--cacert` that verifies nothing here).
    pub fn other_ca(&self) -> PathBuf {
        self.path("other-ca.pem")
    }

    /// `server.pem`: for `127.0.0.1` and `localhost`.
    pub fn server_cert(&self) -> PathBuf {
        self.path("server.pem")
    }

    /// `server.key`.
    pub fn server_key(&self) -> PathBuf {
        self.path("server.key")
    }

    /// `wrong-name.pem`: for [`WRONG_NAME`] only.
    pub fn wrong_name_cert(&self) -> PathBuf {
        self.path("wrong-name.pem")
    }

    /// `wrong-name.key`.
    pub fn wrong_name_key(&self) -> PathBuf {
        self.path("wrong-name.key")
    }

    /// `client.pem`: a client certificate the test CA signed, for `--cert`.
    pub fn client_cert(&self) -> PathBuf {
        self.path("client.pem")
    }

    /// `client.key`, for `--key`.
    pub fn client_key(&self) -> PathBuf {
        self.path("client.key")
    }

    /// `other-client.pem`: a client certificate of the unrelated CA, which the servers refuse.
    pub fn other_client_cert(&self) -> PathBuf {
        self.path("other-client.pem")
    }

    /// `other-client.key`.
    pub fn other_client_key(&self) -> PathBuf {
        self.path("other-client.key")
    }

    /// The certificate and key files a server presents for `cert`.
    pub fn server_files(&self, cert: ServerCert) -> (PathBuf, PathBuf) {
        match cert {
            ServerCert::Trusted => (self.server_cert(), self.server_key()),
            ServerCert::WrongName => (self.wrong_name_cert(), self.wrong_name_key()),
        }
    }

    /// The name a client must ask for to verify `cert` (`localhost`, or [`WRONG_NAME`]).
    pub fn server_name(cert: ServerCert) -> &'static str {
        match cert {
            ServerCert::Trusted => "localhost",
            ServerCert::WrongName => WRONG_NAME,
        }
    }

    /// The bytes of a file of the folder.
    ///
    /// # Panics
    /// When it cannot be read.
    pub fn read(&self, name: &str) -> Vec<u8> {
        fs::read(self.path(name)).unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
    }

    /// A rustls client (ring) trusting only the test CA, presenting `client.pem` when
    /// `with_cert`.
    pub(crate) fn client_config(&self, with_cert: bool) -> Arc<rustls::ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&self.read("ca.pem")) {
            roots.add(cert.expect("ca.pem")).expect("a CA");
        }
        let chain = CertificateDer::pem_slice_iter(&self.read("client.pem"))
            .collect::<Result<Vec<_>, _>>()
            .expect("client.pem");
        let key = PrivateKeyDer::from_pem_slice(&self.read("client.key")).expect("client.key");
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots);
        let config = if with_cert {
            builder
                .with_client_auth_cert(chain, key)
                .expect("the client certificate")
        } else {
            builder.with_no_client_auth()
        };
        Arc::new(config)
    }

    fn write(&self, name: &str, text: &str) {
        fs::write(self.path(name), text).unwrap_or_else(|e| panic!("cannot write {name}: {e}"));
    }

    /// A CA: `<name>.pem` and `<name>.key`.
    fn ca_files(&self, name: &str, common_name: &str) -> Issuer<'static, KeyPair> {
        let mut params = CertificateParams::new(Vec::new()).expect("CA parameters");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        validity(&mut params);
        let key = KeyPair::generate().expect("a key");
        let cert = params.self_signed(&key).expect("a self-signed CA");
        self.write(&format!("{name}.pem"), &cert.pem());
        self.write(&format!("{name}.key"), &key.serialize_pem());
        Issuer::new(params, key)
    }

    /// A certificate by `ca`: `<name>.pem` and `<name>.key`.
    fn leaf_files(
        &self,
        name: &str,
        ca: &Issuer<'static, KeyPair>,
        alt_names: &[&str],
        common_name: &str,
        usage: ExtendedKeyUsagePurpose,
    ) {
        let names: Vec<String> = alt_names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).expect("certificate parameters");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        params.use_authority_key_identifier_extension = true;
        validity(&mut params);
        let key = KeyPair::generate().expect("a key");
        let cert = params.signed_by(&key, ca).expect("a signed certificate");
        self.write(&format!("{name}.pem"), &cert.pem());
        self.write(&format!("{name}.key"), &key.serialize_pem());
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

fn validity(params: &mut CertificateParams) {
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2049, 12, 31);
}

/// Makes ring rustls' process-wide default provider (for the redis crate, which asks rustls
/// for the default), unless one is installed already.
pub(crate) fn install_ring() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// A TLS connection to `addr`, handshake done, every step bounded by `timeout`, verified as
/// `server_name` against the test CA, presenting `client.pem` when `with_cert`.
pub(crate) fn connect(
    pki: &TestPki,
    addr: SocketAddr,
    server_name: &str,
    with_cert: bool,
    timeout: Duration,
) -> io::Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>> {
    let tcp = TcpStream::connect_timeout(&addr, timeout)?;
    tcp.set_read_timeout(Some(timeout))?;
    tcp.set_write_timeout(Some(timeout))?;
    let name = ServerName::try_from(server_name.to_owned()).map_err(io::Error::other)?;
    let conn = rustls::ClientConnection::new(pki.client_config(with_cert), name)
        .map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

/// The largest certificate or key file the tools read: `common::tls::MAX_PEM_FILE`, 1 MiB.
pub const MAX_PEM_FILE: usize = 1024 * 1024;

/// Checks that the tool `bin` refuses a `--cacert`, `--cert` or `--key` that is not a regular
/// file of at most [`MAX_PEM_FILE`] bytes, before it reads it: `/dev/zero` (which would never
/// end), a FIFO nobody writes to (whose open would block), a folder, and a file one byte over the
/// bound. Each is a usage error: exit 2 within [`STEP`](crate::STEP), nothing on stdout, and on
/// stderr exactly `error: cannot read <flag> '<file>': <why>` and `Run '<tool> --help' for
/// usage.`. `before` goes before the TLS flags (a TLS URL), `after` after them (a command).
///
/// # Panics
/// When a refusal is not exactly that, or the tool does not exit in time.
pub fn check_tls_files(bin: &str, before: &[&str], after: &[&str]) {
    let tool = Path::new(bin)
        .file_name()
        .map_or_else(|| bin.to_owned(), |n| n.to_string_lossy().into_owned());
    let pki = TestPki::new();
    let fifo = pki.path("fifo.pem");
    let made = crate::run(crate::command("mkfifo").arg(&fifo), b"", crate::STEP);
    assert!(made.success(), "mkfifo: {made:?}");
    let big = pki.path("big.pem");
    fs::write(&big, vec![b'-'; MAX_PEM_FILE + 1]).expect("a large file");
    let refused = [
        (PathBuf::from("/dev/zero"), "not a regular file".to_owned()),
        (fifo, "not a regular file".to_owned()),
        (pki.dir().to_owned(), "not a regular file".to_owned()),
        (big, format!("larger than {MAX_PEM_FILE} bytes")),
    ];
    let (cert, key) = (pki.client_cert(), pki.client_key());
    for (file, why) in &refused {
        let file = file.as_path();
        let cases = [
            ("--cacert", vec![("--cacert", file)]),
            ("--cert", vec![("--cert", file), ("--key", key.as_path())]),
            ("--key", vec![("--cert", cert.as_path()), ("--key", file)]),
        ];
        for (flag, given) in cases {
            let mut cmd = crate::command(bin);
            cmd.args(before);
            for (name, path) in given {
                cmd.arg(name).arg(path);
            }
            cmd.args(after);
            let run = crate::run(&mut cmd, b"", crate::STEP);
            let expected = format!(
                "error: cannot read {flag} '{}': {why}\nRun '{tool} --help' for usage.\n",
                file.display()
            );
            assert_eq!(
                (run.code(), run.stdout_text(), run.stderr.as_str()),
                (Some(2), String::new(), expected.as_str()),
                "{flag} {}: {run:?}",
                file.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn the_pki_files_verify_as_openssl_sees_them() {
        let pki = TestPki::new();
        let verify = |ca: &Path, cert: &Path, purpose: &str| {
            let out = Command::new("openssl")
                .arg("verify")
                .args(["-purpose", purpose])
                .arg("-CAfile")
                .arg(ca)
                .arg(cert)
                .output()
                .expect("this test needs the openssl command (apt-get install openssl)");
            out.status.success()
        };
        assert!(verify(&pki.ca(), &pki.server_cert(), "sslserver"));
        assert!(verify(&pki.ca(), &pki.wrong_name_cert(), "sslserver"));
        assert!(verify(&pki.ca(), &pki.client_cert(), "sslclient"));
        assert!(verify(
            &pki.other_ca(),
            &pki.other_client_cert(),
            "sslclient"
        ));
        assert!(!verify(&pki.ca(), &pki.other_client_cert(), "sslclient"));
        assert!(!verify(&pki.other_ca(), &pki.server_cert(), "sslserver"));
        let names = Command::new("openssl")
            .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
            .arg(pki.server_cert())
            .output()
            .unwrap();
        let names = String::from_utf8_lossy(&names.stdout);
        assert!(
            names.contains("IP Address:127.0.0.1") && names.contains("DNS:localhost"),
            "{names}"
        );
        for key in ["ca.key", "server.key", "client.key", "wrong-name.key"] {
            let text = String::from_utf8(pki.read(key)).unwrap();
            assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"), "{key}");
        }
        let kept = pki.clone();
        let dir = pki.dir().to_owned();
        drop(pki);
        assert!(dir.exists(), "a clone keeps the folder");
        drop(kept);
        assert!(!dir.exists());
    }
}
