//! Reading the PEM files of `--cacert`, `--cert` and `--key`, and turning any private key into
//! PKCS#8 (what native-tls' `Identity::from_pkcs8` wants).
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

// ---- PKCS#8 ---------------------------------------------------------------------------------

/// rsaEncryption (1.2.840.113549.1.1.1) with its NULL parameters: an AlgorithmIdentifier.
const RSA_ALGORITHM: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];
/// id-ecPublicKey (1.2.840.10045.2.1), an OID TLV.
const EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// The named curves, as OID TLVs: P-256, P-384, P-521.
const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const P521: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];

/// The key as a PKCS#8 PEM block (`-----BEGIN PRIVATE KEY-----`): a PKCS#8 key as it is, a
/// PKCS#1 RSA key or a SEC1 EC key wrapped (the curve from the key's parameters, or from its
/// size when it has none). `None` for a SEC1 key that is not DER or of an unknown curve.
pub(super) fn pkcs8_pem(key: &PrivateKeyDer<'_>) -> Option<Vec<u8>> {
    let der = match key {
        PrivateKeyDer::Pkcs8(k) => k.secret_pkcs8_der().to_vec(),
        PrivateKeyDer::Pkcs1(k) => pkcs8_wrap(RSA_ALGORITHM, k.secret_pkcs1_der()),
        PrivateKeyDer::Sec1(k) => {
            let curve = sec1_curve(k.secret_sec1_der())?;
            let algorithm = tlv(0x30, &[EC_PUBLIC_KEY, curve].concat());
            pkcs8_wrap(&algorithm, k.secret_sec1_der())
        }
        _ => return None,
    };
    Some(pem_block("PRIVATE KEY", &der))
}

/// PrivateKeyInfo ::= SEQUENCE { version 0, algorithm, privateKey OCTET STRING }.
fn pkcs8_wrap(algorithm: &[u8], key: &[u8]) -> Vec<u8> {
    let body = [&[0x02, 0x01, 0x00][..], algorithm, &tlv(0x04, key)].concat();
    tlv(0x30, &body)
}

/// The named curve of a SEC1 ECPrivateKey ::= SEQUENCE { version, privateKey OCTET STRING,
/// [0] parameters OPTIONAL, [1] publicKey OPTIONAL }: its `[0]` OID, else guessed from the size
/// of the private key.
fn sec1_curve(der: &[u8]) -> Option<&'static [u8]> {
    let (0x30, body, _) = read_tlv(der)? else {
        return None;
    };
    let (0x02, _, rest) = read_tlv(body)? else {
        return None;
    };
    let (0x04, secret, mut rest) = read_tlv(rest)? else {
        return None;
    };
    while !rest.is_empty() {
        let (tag, value, next) = read_tlv(rest)?;
        if tag == 0xa0 {
            return [P256, P384, P521].into_iter().find(|c| *c == value);
        }
        rest = next;
    }
    match secret.len() {
        32 => Some(P256),
        48 => Some(P384),
        65 | 66 => Some(P521),
        _ => None,
    }
}

/// One DER TLV (tag, value, what follows), definite lengths up to 4 bytes.
pub(super) fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// A DER TLV.
pub(super) fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
    out
}

/// `-----BEGIN <label>-----`, the base64 in lines of 64, `-----END <label>-----`.
pub(super) fn pem_block(label: &str, der: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = Vec::with_capacity(der.len().div_ceil(3) * 4);
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 0x3f]);
            } else {
                b64.push(b'=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n").into_bytes();
    for line in b64.chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(format!("-----END {label}-----\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_lengths_round_trip() {
        for len in [0, 1, 127, 128, 255, 256, 70_000] {
            let value = vec![7u8; len];
            let der = tlv(0x04, &value);
            let (tag, v, rest) = read_tlv(&der).unwrap();
            assert_eq!((tag, v.len(), rest.len()), (0x04, len, 0));
        }
        assert!(read_tlv(&[0x30, 0x05, 1, 2]).is_none(), "too short");
        assert!(read_tlv(&[0x30, 0x80]).is_none(), "indefinite length");
    }

    #[test]
    fn pem_blocks_decode_back() {
        for len in [0, 1, 2, 3, 47, 48, 49, 100] {
            let der: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let pem = pem_block("CERTIFICATE", &der);
            if len == 0 {
                continue;
            }
            let back = CertificateDer::from_pem_slice(&pem).unwrap();
            assert_eq!(back.as_ref(), der.as_slice(), "{len} bytes");
        }
    }
}
