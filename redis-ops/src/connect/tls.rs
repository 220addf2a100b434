//! `rediss://`: `--cacert`, `--cert`/`--key` and `--insecure` applied to the redis crate's
//! connection info, and the timeout message with its TLS hint.

use std::time::Duration;

use common::duration::duration;
use common::tls::Tls;
use redis::{Client, ClientTlsConfig, ConnectionAddr, TlsCertificates};

use crate::error::{Error, describe};
use crate::url::RedisUrl;

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

/// `url` (a `rediss://` address) with `tls` applied: `--insecure` on the address, the CA and
/// the client certificate in its TLS parameters, which the redis crate checks as it builds a
/// client (the sockets themselves are ours, with the same trust: [`super::dial::Dial`]). A
/// refusal names `named`.
pub(super) fn tls_info(url: &RedisUrl, tls: &Tls, named: &RedisUrl) -> Result<RedisUrl, Error> {
    let ConnectionAddr::TcpTls { host, port, .. } = url.info().addr() else {
        return Ok(url.clone());
    };
    let info = url.info().clone().set_addr(ConnectionAddr::TcpTls {
        host: host.clone(),
        port: *port,
        insecure: tls.insecure(),
        tls_params: None,
    });
    let certs = certificates(tls);
    if certs.client_tls.is_none() && certs.root_cert.is_none() {
        return Ok(url.with_info(info));
    }
    let client = Client::build_with_tls(info, certs).map_err(|e| named.bad(describe(&e)))?;
    Ok(url.with_info(client.get_connection_info().clone()))
}
