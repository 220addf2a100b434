//! `rediss://`: `--cacert`, `--cert`/`--key` and `--insecure` applied to the redis crate's
//! connection info, and the timeout message with its TLS hint.

use std::time::Duration;

use common::duration::duration;
use common::tls::Tls;
use redis::{Client, ClientTlsConfig, ConnectionAddr, ConnectionInfo, TlsCertificates};

use crate::error::{Error, describe};

/// `timed out after 2.0 s`, with a hint for a `rediss://` URL: a plain-text server takes the
/// TLS handshake for the start of a command and never answers.
pub fn timed_out(after: Duration, tls: bool) -> String {
    if tls {
        format!(
            "timed out after {} (rediss://: does the server speak TLS on this port?)",
            duration(after)
        )
    } else {
        format!("timed out after {}", duration(after))
    }
}

/// The redis crate's certificates of `tls`: the `--cacert` roots, the client certificate.
pub(super) fn certificates(tls: &Tls) -> TlsCertificates {
    TlsCertificates {
        client_tls: tls
            .client_cert_pem()
            .zip(tls.client_key_pem())
            .map(|(cert, key)| ClientTlsConfig {
                client_cert: cert.to_vec(),
                client_key: key.to_vec(),
            }),
        root_cert: tls.ca_pem().map(<[u8]>::to_vec),
    }
}

/// `info` (a `rediss://` address) with `tls` applied: `--insecure` on the address, the CA and
/// the client certificate in its TLS parameters (which every client built from it keeps:
/// deadpool's, the connection manager's, the cluster's).
pub(super) fn tls_info(
    info: &ConnectionInfo,
    tls: &Tls,
    url: &str,
) -> Result<ConnectionInfo, Error> {
    let ConnectionAddr::TcpTls { host, port, .. } = info.addr() else {
        return Ok(info.clone());
    };
    let info = info.clone().set_addr(ConnectionAddr::TcpTls {
        host: host.clone(),
        port: *port,
        insecure: tls.insecure(),
        tls_params: None,
    });
    let certs = certificates(tls);
    if certs.client_tls.is_none() && certs.root_cert.is_none() {
        return Ok(info);
    }
    let client = Client::build_with_tls(info, certs).map_err(|e| Error::BadUrl {
        url: url.to_owned(),
        reason: describe(&e),
    })?;
    Ok(client.get_connection_info().clone())
}
