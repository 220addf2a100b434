//! `common::tls` against certificates made here with rcgen, and handshakes with a rustls server
//! in memory.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{Connection, ServerConfig};

use super::*;
use crate::exit::{ExitStatus, FAILURE, USAGE};

mod handshakes;
mod keys;
mod load;

struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut params);
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    Ca {
        pem,
        issuer: Issuer::new(params, key),
    }
}

fn validity(params: &mut CertificateParams) {
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2049, 12, 31);
}

/// A leaf certificate signed by `ca` (PEM certificate, key).
fn leaf(ca: &Ca, names: &[&str], usage: ExtendedKeyUsagePurpose) -> (String, KeyPair) {
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(
        DnType::CommonName,
        names.first().copied().unwrap_or("client"),
    );
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    validity(&mut params);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    (cert.pem(), key)
}

/// A CA, a server certificate for 127.0.0.1 and localhost, a client certificate, another CA and
/// a server certificate for another name, as files.
struct Pki {
    dir: tempfile::TempDir,
    ca: Ca,
    other_ca: Ca,
}

impl Pki {
    fn new() -> Self {
        let pki = Self {
            dir: tempfile::tempdir().unwrap(),
            ca: ca("lessons test CA"),
            other_ca: ca("unrelated CA"),
        };
        pki.write("ca.pem", &pki.ca.pem);
        pki.write("other-ca.pem", &pki.other_ca.pem);
        pki.write("bundle.pem", &format!("{}{}", pki.other_ca.pem, pki.ca.pem));
        let server = || ExtendedKeyUsagePurpose::ServerAuth;
        let client = || ExtendedKeyUsagePurpose::ClientAuth;
        pki.leaf_files("server", &pki.ca, &["127.0.0.1", "localhost"], server());
        pki.leaf_files("elsewhere", &pki.ca, &["elsewhere.invalid"], server());
        pki.leaf_files("client", &pki.ca, &["client"], client());
        pki.leaf_files("stranger", &pki.other_ca, &["stranger"], client());
        pki
    }

    fn leaf_files(&self, name: &str, ca: &Ca, names: &[&str], usage: ExtendedKeyUsagePurpose) {
        let (cert, key) = leaf(ca, names, usage);
        self.write(&format!("{name}.pem"), &cert);
        self.write(&format!("{name}.key"), &key.serialize_pem());
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        fs::write(&p, text).unwrap();
        p
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> Vec<u8> {
        fs::read(self.path(name)).unwrap()
    }

    fn options(&self, cacert: Option<&str>, client: Option<&str>) -> TlsOptions {
        TlsOptions {
            cacert: cacert.map(|c| self.path(c)),
            cert: client.map(|c| self.path(&format!("{c}.pem"))),
            key: client.map(|c| self.path(&format!("{c}.key"))),
            insecure: false,
        }
    }

    /// A rustls server with the certificate `name`, asking for a client certificate signed by
    /// the CA when `clients` says so.
    fn server(&self, name: &str, clients: bool) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = if clients {
            let mut roots = RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(&self.read("ca.pem")) {
                roots.add(c.unwrap()).unwrap();
            }
            builder.with_client_cert_verifier(
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .unwrap(),
            )
        } else {
            builder.with_no_client_auth()
        };
        let chain = CertificateDer::pem_slice_iter(&self.read(&format!("{name}.pem")))
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(&self.read(&format!("{name}.key"))).unwrap();
        Arc::new(builder.with_single_cert(chain, key).unwrap())
    }
}

/// Moves what `from` has to send into `to`.
fn transfer(from: &mut Connection, to: &mut Connection) -> Result<(), rustls::Error> {
    let mut buf = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut buf).unwrap();
    }
    let mut rest = &buf[..];
    while !rest.is_empty() {
        to.read_tls(&mut rest).unwrap();
        to.process_new_packets()?;
    }
    Ok(())
}

/// A handshake between `tls` (as a client of `name`) and `server`, in memory; the client's
/// error first (what a tool sees), else the server's.
fn handshake(tls: &Tls, server: Arc<ServerConfig>, name: &str) -> Result<(), rustls::Error> {
    let config = tls.rustls_client_config().unwrap();
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let mut c = Connection::Client(rustls::ClientConnection::new(config, name).unwrap());
    let mut s = Connection::Server(rustls::ServerConnection::new(server).unwrap());
    let mut server_err = None;
    for _ in 0..10 {
        if let Err(e) = transfer(&mut c, &mut s) {
            server_err = Some(e);
        }
        transfer(&mut s, &mut c)?;
        if !c.is_handshaking() && !s.is_handshaking() && !c.wants_write() && !s.wants_write() {
            break;
        }
    }
    server_err.map_or(Ok(()), Err)
}

fn message(e: &TlsError) -> String {
    crate::exit::report(e)
}
