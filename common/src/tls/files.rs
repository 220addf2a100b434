//! Reading the PEM files of `--cacert`, `--cert` and `--key`.
//!
//! No error made here quotes the content of a file: a key never reaches a message.

use std::path::Path;

use rustls::RootCertStore;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::error::TlsError;
use crate::file::{FileError, read_regular};

/// The largest `--cacert`, `--cert` or `--key` file read, in bytes (1 MiB): a bundle of every
/// public CA is about 200 KB. A larger file, or one that is not a regular file (`/dev/zero`, a
/// FIFO), is a usage error before anything is read.
pub const MAX_PEM_FILE: usize = 1024 * 1024;

/// A file's bytes: a regular file of at most [`MAX_PEM_FILE`] bytes ([`read_regular`]), or a
/// [`TlsError`] naming the flag and the path.
pub(super) fn read(flag: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    let path_buf = || path.to_owned();
    read_regular(path, MAX_PEM_FILE).map_err(|e| match e {
        FileError::Io(source) => TlsError::Read {
            flag,
            path: path_buf(),
            source,
        },
        FileError::NotRegular => TlsError::NotRegular {
            flag,
            path: path_buf(),
        },
        FileError::TooLarge { max } => TlsError::TooLarge {
            flag,
            path: path_buf(),
            max,
        },
    })
}

/// Every certificate of a PEM file (at least one), in order.
pub(super) fn certificates(
    flag: &'static str,
    path: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(flag, path, pem_problem(&e, pem, "certificate")))?;
    if certs.is_empty() {
        return Err(bad(flag, path, missing(pem, "certificate")));
    }
    Ok(certs)
}

/// The trust anchors of a `--cacert` file: each of its certificates must parse as one.
pub(super) fn root_store(
    flag: &'static str,
    path: &Path,
    certs: &[CertificateDer<'static>],
) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    for (i, cert) in certs.iter().enumerate() {
        store.add(cert.clone()).map_err(|e| {
            bad(
                flag,
                path,
                format!("certificate {} of {} is not valid: {e}", i + 1, certs.len()),
            )
        })?;
    }
    Ok(store)
}

/// The first private key of a PEM file (PKCS#8, PKCS#1 RSA or SEC1 EC).
pub(super) fn private_key(
    flag: &'static str,
    path: &Path,
    pem: &[u8],
) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| bad(flag, path, pem_problem(&e, pem, "key")))
}

fn bad(flag: &'static str, path: &Path, problem: String) -> TlsError {
    TlsError::Bad {
        flag,
        path: path.to_owned(),
        problem,
    }
}

/// What is wrong with a PEM file, in words that never quote its content.
fn pem_problem(e: &pem::Error, pem: &[u8], what: &str) -> String {
    match e {
        pem::Error::NoItemsFound => missing(pem, what),
        pem::Error::MissingSectionEnd { .. } => "a PEM block has no '-----END' line".into(),
        pem::Error::IllegalSectionStart { .. } => "a '-----BEGIN' line is malformed".into(),
        pem::Error::Base64Decode(_) => "a PEM block is not valid base64".into(),
        pem::Error::SectionTooLarge => "a PEM block is too large".into(),
        _ => "not a valid PEM file".into(),
    }
}

/// Why no `what` (certificate or key) was found in a file.
fn missing(pem: &[u8], what: &str) -> String {
    let has = |needle: &[u8]| pem.windows(needle.len()).any(|w| w == needle);
    if !has(b"-----BEGIN") {
        return format!(
            "no PEM {what} in it (no '-----BEGIN' line: a DER file must be converted to PEM first)"
        );
    }
    if what == "key" && (has(b"ENCRYPTED PRIVATE KEY") || has(b"Proc-Type: 4,ENCRYPTED")) {
        return "the private key is encrypted: decrypt it first (openssl pkey -in KEY -out PLAIN)"
            .into();
    }
    match what {
        "key" => "no private key in it (expected '-----BEGIN PRIVATE KEY-----', \
                  'RSA PRIVATE KEY' or 'EC PRIVATE KEY')"
            .into(),
        _ => "no certificate in it (expected '-----BEGIN CERTIFICATE-----')".into(),
    }
}
