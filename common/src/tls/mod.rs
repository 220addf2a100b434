//! TLS trust options shared by every tool that reaches a server over TLS (`rediss://`,
//! `amqps://`): `--cacert FILE`, `--cert FILE --key FILE` and `--insecure`.
//!
//! [`TlsOptions`] holds the flags as given; [`TlsOptions::load`] checks them before any
//! connection is made: `--cert` and `--key` come together, every file is read (a regular file
//! of at most [`MAX_PEM_FILE`] bytes) and its PEM parsed, the key must belong to the
//! certificate. The resulting [`Tls`] hands the PEM bytes to the libraries that want them (the
//! redis crate's `TlsCertificates`, native-tls' `Certificate::from_der` and
//! `Identity::from_pkcs8`), or builds a rustls `ClientConfig` ([`Tls::rustls_client_config`]):
//!
//! - trust: the system's roots (rustls-native-certs: `SSL_CERT_FILE`/`SSL_CERT_DIR`, else the
//!   system's bundle) by default; only the `--cacert` roots when given;
//! - a client certificate when `--cert`/`--key` are given;
//! - `--insecure`: any server certificate is accepted (say [`INSECURE_WARNING`] on stderr).
//!
//! rustls runs on the `ring` provider only; [`install_crypto_provider`] makes it the process
//! default for libraries that ask rustls for the default (the redis crate does).
//!
//! ```
//! use common::tls::{TlsError, TlsOptions};
//!
//! let options = TlsOptions { cert: Some("client.pem".into()), ..TlsOptions::default() };
//! let err = options.load().unwrap_err();
//! assert!(matches!(err, TlsError::CertWithoutKey));
//! assert_eq!(err.to_string(), "--cert needs --key (the private key of the client certificate)");
//! ```

mod error;
mod files;
mod verify;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WantsClientCert;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, ConfigBuilder, RootCertStore};

pub use error::TlsError;
pub use files::MAX_PEM_FILE;
pub use verify::{describe, describe_error};

/// The one stderr line a tool prints when `--insecure` is used.
pub const INSECURE_WARNING: &str = "warning: --insecure: the server's certificate is not checked";

/// The TLS flags as the user gave them (paths not read yet).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// `--cacert FILE`: the CA certificates (PEM) to trust instead of the system's.
    pub cacert: Option<PathBuf>,
    /// `--cert FILE`: the client certificate (PEM; its chain may follow it).
    pub cert: Option<PathBuf>,
    /// `--key FILE`: the client certificate's private key (PEM: PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub key: Option<PathBuf>,
    /// `--insecure`: accept any server certificate.
    pub insecure: bool,
}

impl TlsOptions {
    /// The first TLS flag given, if any (`--cacert`, `--cert`, `--key`, `--insecure`): for a
    /// message such as `--cacert needs a rediss:// URL`.
    pub fn first_given(&self) -> Option<&'static str> {
        if self.cacert.is_some() {
            Some("--cacert")
        } else if self.cert.is_some() {
            Some("--cert")
        } else if self.key.is_some() {
            Some("--key")
        } else if self.insecure {
            Some("--insecure")
        } else {
            None
        }
    }

    /// Reads and checks every file, before any connection: `--cert` without `--key` (or the
    /// reverse), an unreadable file, one that is not a regular file or is larger than
    /// [`MAX_PEM_FILE`], a file without the expected PEM block, a CA certificate
    /// that does not parse, a key that is not the certificate's, are each a [`TlsError`] naming
    /// the flag and the file (and usage errors, exit 2: see [`TlsError::exit_code`]).
    ///
    /// [`TlsError::exit_code`]: crate::exit::ExitStatus::exit_code
    pub fn load(&self) -> Result<Tls, TlsError> {
        let client = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => Some(ClientIdentity::load(cert, key)?),
            (Some(_), None) => return Err(TlsError::CertWithoutKey),
            (None, Some(_)) => return Err(TlsError::KeyWithoutCert),
            (None, None) => None,
        };
        let roots = match &self.cacert {
            Some(path) => {
                let pem = files::read("--cacert", path)?;
                let certs = files::certificates("--cacert", path, &pem)?;
                let store = files::root_store("--cacert", path, &certs)?;
                Some(Roots { pem, certs, store })
            }
            None => None,
        };
        Ok(Tls {
            roots,
            client,
            insecure: self.insecure,
        })
    }
}

/// Checked TLS settings: what [`TlsOptions::load`] read.
#[derive(Clone)]
pub struct Tls {
    roots: Option<Roots>,
    client: Option<ClientIdentity>,
    insecure: bool,
}

#[derive(Clone)]
struct Roots {
    pem: Vec<u8>,
    certs: Vec<CertificateDer<'static>>,
    store: RootCertStore,
}

struct ClientIdentity {
    cert_pem: Vec<u8>,
    chain: Vec<CertificateDer<'static>>,
    key_pem: Vec<u8>,
    key: PrivateKeyDer<'static>,
}

impl Clone for ClientIdentity {
    fn clone(&self) -> Self {
        Self {
            cert_pem: self.cert_pem.clone(),
            chain: self.chain.clone(),
            key_pem: self.key_pem.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl ClientIdentity {
    fn load(cert_path: &std::path::Path, key_path: &std::path::Path) -> Result<Self, TlsError> {
        let cert_pem = files::read("--cert", cert_path)?;
        let chain = files::certificates("--cert", cert_path, &cert_pem)?;
        let key_pem = files::read("--key", key_path)?;
        let key = files::private_key("--key", key_path, &key_pem)?;
        let bad_key = |problem: String| TlsError::Bad {
            flag: "--key",
            path: key_path.to_owned(),
            problem,
        };
        let provider = rustls::crypto::ring::default_provider();
        let signing = provider
            .key_provider
            .load_private_key(key.clone_key())
            .map_err(|e| bad_key(format!("unsupported private key: {e}")))?;
        match CertifiedKey::new(chain.clone(), signing).keys_match() {
            Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
            Err(rustls::Error::InconsistentKeys(_)) => {
                return Err(bad_key(format!(
                    "not the private key of the certificate in --cert '{}'",
                    cert_path.display()
                )));
            }
            Err(e) => {
                return Err(TlsError::Bad {
                    flag: "--cert",
                    path: cert_path.to_owned(),
                    problem: format!("the certificate is not valid: {e}"),
                });
            }
        }
        Ok(Self {
            cert_pem,
            chain,
            key_pem,
            key,
        })
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key; the certificates are public but long.
        f.debug_struct("Tls")
            .field("cacert", &self.roots.as_ref().map(|r| r.certs.len()))
            .field(
                "client_cert",
                &self.client.as_ref().map(|_| "<certificate and key>"),
            )
            .field("insecure", &self.insecure)
            .finish()
    }
}

impl Tls {
    /// Whether `--insecure` was given: any server certificate is accepted.
    pub fn insecure(&self) -> bool {
        self.insecure
    }

    /// Says [`INSECURE_WARNING`] on stderr when `--insecure` was given.
    pub fn warn_if_insecure(&self) {
        if self.insecure {
            crate::exit::say(INSECURE_WARNING);
        }
    }

    /// The `--cacert` file as read (PEM, one or more certificates): the redis crate's
    /// `TlsCertificates::root_cert`. `None`: trust the system's roots.
    pub fn ca_pem(&self) -> Option<&[u8]> {
        self.roots.as_ref().map(|r| r.pem.as_slice())
    }

    /// Each `--cacert` certificate in DER (none without `--cacert`): native-tls'
    /// `Certificate::from_der` takes one at a time.
    pub fn ca_certs_der(&self) -> impl Iterator<Item = &[u8]> {
        self.roots
            .iter()
            .flat_map(|r| r.certs.iter().map(AsRef::as_ref))
    }

    /// Whether a client certificate was given (`--cert` and `--key`).
    pub fn has_client_cert(&self) -> bool {
        self.client.is_some()
    }

    /// The `--cert` file as read (PEM: the certificate, then its chain): the redis crate's
    /// `ClientTlsConfig::client_cert`, native-tls' `Identity::from_pkcs8` first argument.
    pub fn client_cert_pem(&self) -> Option<&[u8]> {
        self.client.as_ref().map(|c| c.cert_pem.as_slice())
    }

    /// The `--key` file as read (PEM, any of PKCS#8, PKCS#1, SEC1): the redis crate's
    /// `ClientTlsConfig::client_key`; OpenSSL reads it too (rabbit-ops writes it as the PKCS#8
    /// that native-tls' `Identity::from_pkcs8` wants). Secret: never print it.
    pub fn client_key_pem(&self) -> Option<&[u8]> {
        self.client.as_ref().map(|c| c.key_pem.as_slice())
    }

    /// A rustls client configuration (ring provider, TLS 1.2 and 1.3): the `--cacert` roots or
    /// else the system's, or with `--insecure` a verifier that accepts any certificate; the
    /// client certificate when given. No ALPN; SNI on.
    ///
    /// # Errors
    /// [`TlsError::SystemRoots`] when no `--cacert` was given and the system's roots cannot be
    /// loaded (none found); [`TlsError::Config`] when rustls refuses the settings.
    pub fn rustls_client_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?;
        let builder: ConfigBuilder<ClientConfig, WantsClientCert> = if self.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verify::AnyCertificate {
                    algorithms: provider.signature_verification_algorithms,
                }))
        } else {
            let roots = match &self.roots {
                Some(r) => r.store.clone(),
                None => system_roots()?,
            };
            builder.with_root_certificates(roots)
        };
        let config = match &self.client {
            Some(c) => builder
                .with_client_auth_cert(c.chain.clone(), c.key.clone_key())
                .map_err(TlsError::Config)?,
            None => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }
}

/// The system's trusted roots (those that parse). An error only when none could be loaded.
fn system_roots() -> Result<RootCertStore, TlsError> {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let (added, _unparsable) = store.add_parsable_certificates(found.certs);
    if added == 0 {
        let detail = found
            .errors
            .first()
            .map_or_else(|| "none found".to_owned(), ToString::to_string);
        return Err(TlsError::SystemRoots { detail });
    }
    Ok(store)
}

/// Makes ring the process-wide default rustls provider, once (later calls, and a default
/// installed by someone else first, are left alone). Call it at the start of a tool whose
/// libraries build rustls configurations with `ClientConfig::builder()` (the redis crate).
pub fn install_crypto_provider() {
    if CryptoProvider::get_default().is_none() {
        // Err: another thread installed one in between; that one stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests;
