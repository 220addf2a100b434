//! The flags before the command that say where Redis is: `--url` (or `$REDIS_URL`), the
//! `--cluster` seeds, `--timeout`, the TLS files. Every command checks them first, in the same
//! order, into a [`Redis`] ([`Connection::redis`]; `ping` into its targets, from
//! [`Connection::check`]).

use std::time::Duration;

use common::tls::{Tls, TlsOptions};

use super::usage;
use crate::connect::Redis;
use crate::error::Error;
use crate::url::url_from;

/// The most seed nodes `--cluster` takes.
pub const MAX_SEEDS: usize = 64;

/// The connection flags as given.
pub struct Connection {
    /// `--url`.
    pub url: Option<String>,
    /// `--timeout`.
    pub timeout: Duration,
    /// `--cacert`, `--cert`, `--key`, `--insecure`.
    pub tls: TlsOptions,
    /// `--cluster`, as given (repeated, or separated with commas).
    pub cluster: Vec<String>,
}

/// Whether a command runs on a Redis Cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCluster {
    /// It does (`--cluster` or `--url`).
    Runs,
    /// It does not: `--cluster` is a usage error naming the command.
    Refused(&'static str),
}

/// The connection flags, checked: the seeds, the TLS files read.
pub struct Checked<'a> {
    /// The flags.
    pub flags: &'a Connection,
    /// The `--cluster` seeds (none without `--cluster`).
    pub seeds: Vec<String>,
    /// The TLS settings read from the files.
    pub tls: Tls,
}

impl Connection {
    /// The checks every command makes first: the seeds, an empty `--url`, the TLS files, `--url`
    /// with `--cluster`, `--cluster` for a command that does not run on one.
    pub fn check(&self, on_cluster: OnCluster) -> Result<Checked<'_>, Error> {
        let seeds = seeds(&self.cluster)?;
        if self.url.as_deref().is_some_and(|u| u.trim().is_empty()) {
            return Err(usage("--url is empty: give a Redis URL"));
        }
        let tls = self.tls.load()?;
        let cluster = !seeds.is_empty();
        if cluster && self.url.is_some() {
            return Err(usage("give --url or --cluster, not both"));
        }
        if let (OnCluster::Refused(what), true) = (on_cluster, cluster) {
            return Err(usage(&format!(
                "{what} does not run on a cluster (--cluster): use --url with one node"
            )));
        }
        Ok(Checked {
            flags: self,
            seeds,
            tls,
        })
    }

    /// The server (`--url`, else `$REDIS_URL`, else the default) or the cluster (`--cluster`)
    /// a command talks to, parsed, with the TLS settings applied; no connection yet.
    pub fn redis(&self, on_cluster: OnCluster) -> Result<Redis, Error> {
        let checked = self.check(on_cluster)?;
        let redis = if checked.seeds.is_empty() {
            Redis::new(&url_from(self.url.clone()), self.timeout)?
        } else {
            Redis::cluster(&checked.seeds, self.timeout)?
        };
        let redis = redis.with_tls(&checked.tls)?;
        checked.tls_flags_need_tls([&redis])?;
        Ok(redis)
    }
}

impl Checked<'_> {
    /// `--cacert`, `--cert`, `--key` or `--insecure` with no `rediss://` URL is a usage error:
    /// the flags would be silently ignored.
    pub fn tls_flags_need_tls<'r>(
        &self,
        servers: impl IntoIterator<Item = &'r Redis>,
    ) -> Result<(), Error> {
        match self.flags.tls.first_given() {
            Some(flag) if !servers.into_iter().any(Redis::is_tls) => {
                Err(usage(&format!("{flag} needs a rediss:// URL (TLS)")))
            }
            _ => Ok(()),
        }
    }
}

/// The seed URLs of `--cluster` (repeated, or separated with commas): an empty list, or an
/// empty item in it, is a usage error, never a silent fall-back to the single default node.
fn seeds(given: &[String]) -> Result<Vec<String>, Error> {
    let mut seeds = Vec::new();
    for s in given.iter().flat_map(|s| s.split(',')).map(str::trim) {
        if s.is_empty() {
            return Err(usage(
                "--cluster: an empty seed URL (give redis://host:port, or several separated by commas)",
            ));
        }
        seeds.push(s.to_owned());
    }
    if seeds.len() > MAX_SEEDS {
        return Err(usage(&format!("--cluster: at most {MAX_SEEDS} seed URLs")));
    }
    Ok(seeds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::cli::tests::parse;

    #[test]
    fn url_and_cluster_conflict() {
        let (to, Command::Get(_)) = parse(&[
            "--url",
            "redis://h:1/0",
            "--cluster",
            "redis://h:2",
            "get",
            "k",
        ])
        .unwrap() else {
            panic!("not get")
        };
        assert_eq!(
            to.redis(OnCluster::Runs).unwrap_err().to_string(),
            "give --url or --cluster, not both"
        );
    }

    #[test]
    fn seeds_are_counted_and_none_is_empty() {
        assert_eq!(
            seeds(&["redis://a:1, redis://b:2".into(), "redis://c:3".into()]).unwrap(),
            ["redis://a:1", "redis://b:2", "redis://c:3"]
        );
        assert!(seeds(&["redis://a:1,".into()]).is_err());
        assert!(seeds(&vec!["redis://a:1".to_owned(); MAX_SEEDS + 1]).is_err());
    }
}
