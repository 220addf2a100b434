//! What the stream commands share on the command line: where their broker is (one
//! [`Endpoint`] from the flags before the command), their names, and the runtime they run on.
//!
//! The global `--url` is AMQP 0-9-1's; the stream commands take a stream URL instead, from the
//! same flag or from their own variable: the `rabbitmq-stream://` (or `rabbitmq-stream+tls://`)
//! `--url`, else `$RABBITMQ_STREAM_URL`, else `rabbitmq-stream://guest:guest@127.0.0.1:5552/%2f`.
//! `$AMQP_URL` is never read by them, and an `amqp://` `--url` given to one is a usage error
//! (it would name the wrong port). `--connect-timeout` and the TLS flags are the same flags as
//! for `amqps://`. `ping` with stream URLs reads its nodes here too ([`endpoints`]).

use std::path::{Path, PathBuf};

use common::tls::TlsOptions;
use rabbitmq_stream_client::TlsConfiguration;

use super::global::Global;
use crate::error::Error;
use crate::streams::url::{DEFAULT_STREAM_URL, STREAM_URL_ENV, is_stream_url};
use crate::streams::{Endpoint, MAX_NAME, StreamError, StreamTls, StreamUrl};

/// What cannot happen (one URL gives one endpoint), as an error rather than a panic.
fn unreachable_endpoint() -> Error {
    Error::Usage {
        what: "no stream URL".to_owned(),
        command: None,
    }
}

/// The stream URLs of `--url`, else `$RABBITMQ_STREAM_URL`, else the default; an AMQP `--url`
/// is a usage error of `command`.
pub fn stream_urls(command: &'static str, urls: &[String]) -> Result<Vec<String>, Error> {
    if let Some(amqp) = urls.iter().find(|u| !is_stream_url(u)) {
        return Err(Error::usage(
            command,
            format!(
                "{command} needs a stream URL (rabbitmq-stream://host:5552/vhost), not '{}': \
                 --url amqp://... is for the queue commands",
                common::redact::redact_url(amqp)
            ),
        ));
    }
    if !urls.is_empty() {
        return Ok(urls.to_vec());
    }
    Ok(vec![
        std::env::var(STREAM_URL_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty())
            .map_or_else(|| DEFAULT_STREAM_URL.to_owned(), |u| u.trim().to_owned()),
    ])
}

/// The one broker of a stream command: one stream URL (see [`stream_urls`]), parsed, with its
/// TLS settings, checked before anything connects.
pub fn endpoint(command: &'static str, global: &Global) -> Result<Endpoint, Error> {
    let urls = stream_urls(command, &global.given)?;
    let [url] = urls.as_slice() else {
        return Err(Error::usage(
            command,
            format!("{command} takes one stream URL, not {}", urls.len()),
        ));
    };
    let mut endpoints = endpoints(command, global, std::slice::from_ref(url))?;
    endpoints.pop().ok_or_else(unreachable_endpoint)
}

/// Every URL of `urls` as an endpoint, the TLS flags checked once (a TLS flag without a
/// `rabbitmq-stream+tls://` URL is a usage error).
pub fn endpoints(
    command: &'static str,
    global: &Global,
    urls: &[String],
) -> Result<Vec<Endpoint>, Error> {
    let parsed = urls
        .iter()
        .map(|u| {
            StreamUrl::parse(u).map_err(|reason| {
                Error::from(StreamError::BadUrl {
                    url: common::redact::redact_url(u),
                    reason,
                })
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tls = if parsed.iter().any(|u| u.tls) {
        Some(stream_tls(command, &global.tls)?)
    } else if let Some(flag) = global.tls.first_given() {
        return Err(Error::usage(
            command,
            format!("{flag} needs a rabbitmq-stream+tls:// URL"),
        ));
    } else {
        None
    };
    Ok(parsed
        .into_iter()
        .map(|url| Endpoint {
            tls: tls.clone().filter(|_| url.tls),
            url,
            timeout: global.connect_timeout,
        })
        .collect())
}

/// The TLS settings of `rabbitmq-stream+tls://`: the files read and checked now (the stream
/// client reads them again itself, and would panic on a bad one); `--insecure` said once.
fn stream_tls(command: &'static str, options: &TlsOptions) -> Result<StreamTls, Error> {
    let usage = |what: String| Error::usage(command, what);
    let tls = options.load().map_err(|e| {
        let line = common::cli::report(&e);
        usage(line.strip_prefix("error: ").unwrap_or(&line).to_owned())
    })?;
    let config = tls
        .rustls_client_config()
        .map_err(|e| usage(e.to_string()))?;
    let mut client = TlsConfiguration::builder()
        .enable(true)
        .trust_certificates(options.insecure);
    if !options.insecure {
        let roots = match &options.cacert {
            Some(path) => path.clone(),
            None => system_bundle().ok_or_else(|| {
                usage(
                    "no system CA bundle found (SSL_CERT_FILE, /etc/ssl/certs/ca-certificates.crt): \
                     give --cacert"
                        .to_owned(),
                )
            })?,
        };
        client = client.add_root_certificates(utf8_path("--cacert", &roots).map_err(usage)?);
    }
    if let (Some(cert), Some(key)) = (&options.cert, &options.key) {
        let pem = std::fs::read_to_string(key).unwrap_or_default();
        if !pem.contains("-----BEGIN PRIVATE KEY-----") {
            return Err(usage(format!(
                "--key '{}': the stream client reads PKCS#8 keys only (-----BEGIN PRIVATE \
                 KEY-----); convert it: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8",
                key.display()
            )));
        }
        client = client.add_client_certificates_keys(
            utf8_path("--cert", cert).map_err(usage)?,
            utf8_path("--key", key).map_err(usage)?,
        );
    }
    tls.warn_if_insecure();
    Ok(StreamTls {
        config,
        client: client.build(),
    })
}

fn utf8_path(flag: &str, path: &Path) -> Result<String, String> {
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{flag} '{}': the path is not UTF-8", path.display()))
}

/// The system's CA bundle as one file (the stream client reads its roots from a file):
/// `$SSL_CERT_FILE`, else the usual places.
fn system_bundle() -> Option<PathBuf> {
    let env = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    env.into_iter()
        .chain(
            [
                "/etc/ssl/certs/ca-certificates.crt",
                "/etc/pki/tls/certs/ca-bundle.crt",
                "/etc/ssl/ca-bundle.pem",
                "/etc/ssl/cert.pem",
            ]
            .map(PathBuf::from),
        )
        .find(|p| p.is_file())
}

/// A stream or consumer name: 1 to [`MAX_NAME`] bytes.
pub fn name(command: &'static str, flag: &str, value: String) -> Result<String, Error> {
    if value.is_empty() {
        return Err(Error::usage(command, format!("{flag} must not be empty")));
    }
    if value.len() > MAX_NAME {
        return Err(Error::usage(
            command,
            format!(
                "{flag} is {} bytes: stream and consumer names are at most {MAX_NAME}",
                value.len()
            ),
        ));
    }
    Ok(value)
}
