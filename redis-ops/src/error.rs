//! The one error type of the crate. Every variant names what the user did or what failed; the
//! binary prints it as one line (`error: ...`) and exits 1, or 2 for a usage mistake.

use std::time::Duration;

use common::duration::duration;
use common::exit::{ExitStatus, FAILURE, INTERRUPTED, USAGE};
use common::net::describe_io;
use common::output::PrintError;

pub use crate::redis_error::describe;
use crate::url::{BadUrl, RedisUrl};

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `--url` (or `$REDIS_URL`) is not a Redis URL, or not one that can serve here.
    #[error(transparent)]
    BadUrl(#[from] BadUrl),

    /// A usage mistake the argument parser cannot see (two exclusive flags, say).
    #[error("{0}")]
    Usage(String),

    /// `lesson NAME` with a name that is not a lesson.
    #[error(
        "unknown lesson '{0}': choose strings, hashes, lists, sets, zsets, keys, pipeline, pubsub or all"
    )]
    UnknownLesson(String),

    /// The server could not be reached (refused, timed out, authentication failed...).
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The server's URL (which shows itself with its password hidden).
        url: RedisUrl,
        /// Why, in a few words: `connection refused`, `timed out after 5s`.
        reason: String,
    },

    /// A command failed: the server answered with an error, or the connection broke.
    #[error("{command}: {reason}")]
    Command {
        /// The command as redis-cli would show it.
        command: String,
        /// The server's error (`WRONGTYPE Operation against a key ...`) or the I/O failure.
        reason: String,
    },

    /// `set --nx` on an existing key, `set --xx` on a missing one.
    #[error("not set: key '{key}' {why}")]
    NotSet {
        /// The key.
        key: String,
        /// `already exists (--nx)` or `does not exist (--xx)`.
        why: &'static str,
    },

    /// A lesson step got a reply other than the one Redis must give.
    #[error("lesson {group}: > {command}: expected {expected}, got {got}")]
    Disagreed {
        /// The lesson group (`strings`, `lists`...).
        group: &'static str,
        /// The command as redis-cli would show it.
        command: String,
        /// What Redis must answer.
        expected: String,
        /// What it answered.
        got: String,
    },

    /// Something that must happen within a bounded time did not.
    #[error("timed out after {}: {what}", duration(*.after))]
    TimedOut {
        /// What we were waiting for.
        what: String,
        /// How long we waited.
        after: Duration,
    },

    /// A lesson failed and its clean-up failed too (the server went away or froze): its keys
    /// stay until the next lesson run, or their expiry backstop, removes them.
    #[error("{cause}; the run's keys under {prefix} are left (the next lesson run removes them)")]
    KeysLeft {
        /// Why the lesson failed (its exit code is this one's).
        cause: Box<Error>,
        /// The run's key prefix.
        prefix: String,
    },

    /// `--cacert`, `--cert`, `--key`: a file missing or wrong, a key without its certificate.
    #[error(transparent)]
    Tls(#[from] common::tls::TlsError),

    /// A long run kept failing for its whole `--retry-for` and gave up.
    #[error("gave up after {} of failures: {last}", duration(*.after))]
    GaveUp {
        /// `--retry-for`.
        after: Duration,
        /// The last failure.
        last: String,
    },

    /// An input went past one of the documented bounds at run time (`set --stdin` larger than
    /// its limit): nothing was sent.
    #[error("{0}")]
    Limit(String),

    /// SIGINT or SIGTERM arrived; whatever had to be cleaned up was (exit 130,
    /// [`common::exit::INTERRUPTED`]).
    #[error("interrupted{0}")]
    Interrupted(String),

    /// Reading stdin, installing the signal handlers or starting the runtime failed.
    #[error("{what}: {}", describe_io(.cause))]
    Io {
        /// What we were doing.
        what: &'static str,
        /// The cause (printed in short words, not as a second cause).
        cause: std::io::Error,
    },

    /// Standard output could not be written: closed by its reader (a command whose job is
    /// printing then ends quietly, exit 0) or another failure.
    #[error("{0}")]
    Print(#[from] PrintError),
}

impl Error {
    /// Whether retrying cannot mend this failure, whose redis error (if any) is `cause`: a bad
    /// URL or usage, a reply that is not RESP (not a Redis server), a refused password, a
    /// command the server refuses (WRONGTYPE, NOPERM, OOM...). Lost, refused or timed-out
    /// connections and a server not ready yet ([`not_ready_yet`]) are not. The one
    /// classification of pool and subscribe (ping's refusals use [`not_ready_yet`] too).
    pub fn is_permanent(&self, cause: Option<&redis::RedisError>) -> bool {
        use redis::{ErrorKind, RetryMethod};
        match (self, cause) {
            (Self::BadUrl(_) | Self::Usage(_), _) => true,
            // A peer past our bounds once will be past them again.
            (_, Some(e)) if crate::connect::bounded::overrun_of(e).is_some() => true,
            (_, Some(e)) if e.code().is_some_and(not_ready_yet) => false,
            (_, Some(e)) => {
                matches!(e.kind(), ErrorKind::Parse | ErrorKind::AuthenticationFailed)
                    || matches!(e.retry_method(), RetryMethod::NoRetry)
            }
            (_, None) => false,
        }
    }

    /// [`Error::Interrupted`] naming the signal: `interrupted (SIGINT)`.
    pub fn interrupted(signal: common::shutdown::Signal) -> Self {
        Self::Interrupted(format!(" ({})", signal_name(signal)))
    }
}

/// `SIGINT` or `SIGTERM`.
pub fn signal_name(signal: common::shutdown::Signal) -> &'static str {
    match signal {
        common::shutdown::Signal::Interrupt => "SIGINT",
        common::shutdown::Signal::Terminate => "SIGTERM",
    }
}

impl ExitStatus for Error {
    fn exit_code(&self) -> u8 {
        match self {
            Self::BadUrl(_) | Self::Usage(_) | Self::UnknownLesson(_) => USAGE,
            Self::Interrupted(_) => INTERRUPTED,
            Self::KeysLeft { cause, .. } => cause.exit_code(),
            Self::Tls(e) => e.exit_code(),
            _ => FAILURE,
        }
    }
}

/// Whether a server's error code says "not ready yet, try again": it is loading its data
/// (LOADING), running a script (BUSY), or its replication or cluster is not serving
/// (MASTERDOWN, CLUSTERDOWN, TRYAGAIN).
pub fn not_ready_yet(code: &str) -> bool {
    matches!(
        code,
        "LOADING" | "BUSY" | "MASTERDOWN" | "CLUSTERDOWN" | "TRYAGAIN"
    )
}

/// Io error constructor for `map_err`.
pub(crate) fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |cause| Error::Io { what, cause }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_in_short_words() {
        let e = Error::TimedOut {
            what: "1 of 3 messages received".into(),
            after: Duration::from_secs(1),
        };
        assert_eq!(
            e.to_string(),
            "timed out after 1.0 s: 1 of 3 messages received"
        );
        let e = io("cannot read the value from stdin")(std::io::ErrorKind::BrokenPipe.into());
        assert_eq!(
            common::cli::report(&e),
            "error: cannot read the value from stdin: the peer closed the connection"
        );
    }

    #[test]
    fn urls_in_errors_are_redacted() {
        let e = Error::Connect {
            url: RedisUrl::parse("redis://:hunter2@127.0.0.1:1/0").unwrap(),
            reason: "connection refused".into(),
        };
        assert_eq!(
            e.to_string(),
            "cannot connect to redis://:***@127.0.0.1:1/0: connection refused"
        );
        assert_eq!(e.exit_code(), FAILURE);
        let e = Error::from(RedisUrl::parse("redis://u:pw@h:x").unwrap_err());
        assert!(!e.to_string().contains("pw"), "{e}");
        assert_eq!(e.exit_code(), USAGE);
    }

    /// A server's error reply as the redis crate gives it.
    fn server_error(reply: &str) -> redis::RedisError {
        redis::parse_redis_value(format!("-{reply}\r\n").as_bytes())
            .and_then(redis::Value::extract_error)
            .unwrap_err()
    }

    #[test]
    fn refusals_are_permanent_and_a_server_not_ready_yet_is_not() {
        let command = |reason: &str| Error::Command {
            command: "SUBSCRIBE news".into(),
            reason: reason.into(),
        };
        for (reply, permanent) in [
            ("NOPERM this user has no permissions", true),
            ("WRONGTYPE Operation against a key", true),
            ("ERR unknown command", true),
            ("LOADING Redis is loading the dataset in memory", false),
            ("BUSY Redis is busy running a script", false),
            (
                "TRYAGAIN Multiple keys request during rehashing of slot",
                false,
            ),
            ("CLUSTERDOWN The cluster is down", false),
        ] {
            let e = server_error(reply);
            assert_eq!(command(reply).is_permanent(Some(&e)), permanent, "{reply}");
        }
        assert!(!command("connection refused").is_permanent(None));
        assert!(Error::Usage("x".into()).is_permanent(None));
    }
}
