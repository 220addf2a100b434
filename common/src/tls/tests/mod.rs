//! `common::tls` against the certificates of test-support's `TestPki` (made with rcgen), and
//! handshakes with a rustls server in memory.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{Connection, ServerConfig};

use super::*;
use crate::exit::{ExitStatus, FAILURE, USAGE};

mod handshakes;
mod keys;
mod load;

/// The workspace's test PKI (`test_support::TestPki`: a CA, a server certificate for
/// 127.0.0.1 and localhost, one for another name, a client certificate, an unrelated CA and a
/// client certificate of it), plus `bundle.pem` (the unrelated CA, then the CA).
struct Pki {
    pki: test_support::TestPki,
}

impl Pki {
    fn new() -> Self {
        let pki = Self {
            pki: test_support::TestPki::new(),
        };
        let bundle = [pki.read("other-ca.pem"), pki.read("ca.pem")].concat();
        pki.write("bundle.pem", std::str::from_utf8(&bundle).unwrap());
        pki
    }

    fn dir(&self) -> &Path {
        self.pki.dir()
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        fs::write(&p, text).unwrap();
        p
    }

    fn path(&self, name: &str) -> PathBuf {
        self.pki.path(name)
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
    crate::cli::report(e)
}
