//! The flags before the command, which say where the broker is: `--url` (repeated for the nodes
//! of a cluster; else `$AMQP_URL`, else the default), `--connect-timeout`, and the TLS flags
//! (`--cacert`, `--cert`/`--key`, `--insecure`). Each command turns them into its [`Broker`]
//! ([`Global::broker`]) once its own options are checked, still before any connection: a URL
//! that cannot be used or a TLS mistake is a usage error too.

use std::time::Duration;

use common::tls::TlsOptions;

use crate::broker::{Broker, TlsClient};
use crate::error::Error;
use crate::url::DEFAULT_URL;

/// The flags before the command, as given.
#[derive(Debug)]
pub struct Global {
    /// The broker URLs ([`broker_urls`]).
    pub urls: Vec<String>,
    /// `--connect-timeout`.
    pub connect_timeout: Duration,
    /// The TLS flags.
    pub tls: TlsOptions,
}

impl Global {
    /// The flags: every `--url` (see [`broker_urls`]), `--connect-timeout`, the TLS flags.
    pub fn new(urls: &[String], connect_timeout: Duration, tls: TlsOptions) -> Self {
        Self {
            urls: broker_urls(urls),
            connect_timeout,
            tls,
        }
    }

    /// The broker: its URLs parsed (one that is not an AMQP URL is [`Error::BadUrl`]) and its
    /// TLS settings read ([`tls_client`]). Nothing is connected yet.
    pub fn broker(&self) -> Result<Broker, Error> {
        let broker = Broker::with_urls(&self.urls, self.connect_timeout)?;
        let tls = tls_client(&self.tls, &self.urls)?;
        Ok(broker.with_tls(tls))
    }
}

/// The broker URLs: every `--url`, else `$AMQP_URL` (a comma-separated list), else the
/// default.
pub fn broker_urls(flags: &[String]) -> Vec<String> {
    if !flags.is_empty() {
        return flags.to_vec();
    }
    let from_env: Vec<String> = std::env::var("AMQP_URL")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect();
    if from_env.is_empty() {
        vec![DEFAULT_URL.to_owned()]
    } else {
        from_env
    }
}

/// The TLS settings of the `amqps://` URLs among `urls` (`None` when there is none), read
/// before any connection and turned into the one [`TlsClient`] every `amqps://` connection
/// uses. A TLS flag without any `amqps://` URL, `--cert` without `--key`, a file that cannot
/// be read or parsed: usage errors. `--insecure` says [`common::tls::INSECURE_WARNING`] once,
/// here.
pub fn tls_client(options: &TlsOptions, urls: &[String]) -> Result<Option<TlsClient>, Error> {
    let usage = |what: String| Error::Usage {
        what,
        command: None,
    };
    if !urls.iter().any(|u| u.starts_with("amqps://")) {
        return match options.first_given() {
            Some(flag) => Err(usage(format!("{flag} needs an amqps:// URL"))),
            None => Ok(None),
        };
    }
    let tls = options.load().map_err(|e| {
        let line = common::cli::report(&e);
        usage(line.strip_prefix("error: ").unwrap_or(&line).to_owned())
    })?;
    let client = TlsClient::new(&tls).map_err(usage)?;
    tls.warn_if_insecure();
    Ok(Some(client))
}
