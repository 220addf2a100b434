//! The TLS flags (`--cacert`, `--cert`/`--key`, `--insecure`): checked and read before any
//! connection, and turned into the one [`TlsClient`] every `amqps://` connection uses.

use std::path::PathBuf;

use common::tls::TlsOptions;

use crate::broker::TlsClient;
use crate::error::Error;

/// The TLS flags as argh parsed them.
pub(crate) struct Flags {
    pub(crate) cacert: Option<PathBuf>,
    pub(crate) cert: Option<PathBuf>,
    pub(crate) key: Option<PathBuf>,
    pub(crate) insecure: bool,
}

/// The TLS settings of the `amqps://` URLs among `urls` (`None` when there is none). A TLS flag
/// without any `amqps://` URL, `--cert` without `--key`, a file that cannot be read or parsed:
/// usage errors. `--insecure` says [`common::tls::INSECURE_WARNING`] once, here.
pub(crate) fn client(flags: Flags, urls: &[String]) -> Result<Option<TlsClient>, Error> {
    let usage = |what: String| Error::Usage {
        what,
        command: None,
    };
    let options = TlsOptions {
        cacert: flags.cacert,
        cert: flags.cert,
        key: flags.key,
        insecure: flags.insecure,
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
