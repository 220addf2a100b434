//! `set`, `get`, `incr`: the notes' `r.set("foo", "bar")` / `r.get("foo")` (§2a).
//!
//! Values are bytes, never assumed to be UTF-8: `get` hands back exactly what was stored.

use redis::aio::ConnectionLike;
use redis::{AsyncTypedCommands, Cmd, ExistenceCheck, SetExpiry, SetOptions};

use crate::error::{Error, describe};
use crate::reply::show_command;

/// When a `set` expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// `EX seconds`.
    Seconds(u64),
    /// `PX milliseconds`.
    Millis(u64),
}

/// When a `set` may happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// `NX`: only if the key does not exist.
    IfMissing,
    /// `XX`: only if it exists.
    IfExists,
}

/// The command `set` sends: `SET key value [EX s | PX ms] [NX | XX]`.
pub fn set_command(
    key: &str,
    value: &[u8],
    expiry: Option<Expiry>,
    condition: Option<Condition>,
) -> Cmd {
    let mut options = SetOptions::default();
    match expiry {
        Some(Expiry::Seconds(s)) => options = options.with_expiration(SetExpiry::EX(s)),
        Some(Expiry::Millis(ms)) => options = options.with_expiration(SetExpiry::PX(ms)),
        None => {}
    }
    match condition {
        Some(Condition::IfMissing) => {
            options = options.conditional_set(ExistenceCheck::NX);
        }
        Some(Condition::IfExists) => options = options.conditional_set(ExistenceCheck::XX),
        None => {}
    }
    Cmd::set_options(key, value, options)
}

/// Stores `value` under `key`. With a condition that does not hold, nothing is stored and the
/// error says why ([`Error::NotSet`]).
pub async fn set(
    conn: &mut (impl ConnectionLike + Send),
    key: &str,
    value: &[u8],
    expiry: Option<Expiry>,
    condition: Option<Condition>,
) -> Result<(), Error> {
    let cmd = set_command(key, value, expiry, condition);
    // SET answers OK, or (nil) when NX/XX prevented it.
    let reply: Option<String> = cmd.query_async(conn).await.map_err(|e| Error::Command {
        command: show_set(key, value.len(), expiry, condition),
        reason: describe(&e),
    })?;
    match (reply, condition) {
        (Some(_), _) => Ok(()),
        (None, Some(Condition::IfExists)) => Err(Error::NotSet {
            key: key.to_owned(),
            why: "does not exist (--xx)",
        }),
        (None, _) => Err(Error::NotSet {
            key: key.to_owned(),
            why: "already exists (--nx)",
        }),
    }
}

/// `set`'s command as an error shows it: the value never echoed (a value the server refused may
/// be megabytes, or a secret), only its size: `SET k <2097152 bytes> NX`.
pub fn show_set(
    key: &str,
    len: usize,
    expiry: Option<Expiry>,
    condition: Option<Condition>,
) -> String {
    let head = show_command(redis::cmd("SET").arg(key));
    let full = show_command(&set_command(key, b"", expiry, condition));
    let rest = full
        .strip_prefix(head.as_str())
        .and_then(|r| r.strip_prefix(" \"\""))
        .unwrap_or("");
    format!("{head} <{len} bytes>{rest}")
}

/// The bytes stored under `key`, or `None` when there is no such key.
pub async fn get(
    conn: &mut (impl ConnectionLike + Send),
    key: &str,
) -> Result<Option<Vec<u8>>, Error> {
    let cmd = Cmd::get(key);
    cmd.query_async(conn)
        .await
        .map_err(|e| command_error(&cmd, &e))
}

/// Adds `by` to the integer stored under `key` (0 when missing) and answers the new value.
pub async fn incr(
    conn: &mut (impl ConnectionLike + Send + Sync),
    key: &str,
    by: i64,
) -> Result<i64, Error> {
    conn.incr(key, by)
        .await
        .map(|n| n as i64)
        .map_err(|e| Error::Command {
            command: show_command(&Cmd::incr(key, by)),
            reason: describe(&e),
        })
}

fn command_error(cmd: &Cmd, e: &redis::RedisError) -> Error {
    Error::Command {
        command: show_command(cmd),
        reason: describe(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_options_become_arguments() {
        let cases: [(&[u8], _, _, &str); 3] = [
            (
                b"v",
                Some(Expiry::Seconds(10)),
                Some(Condition::IfMissing),
                "SET k v NX EX 10",
            ),
            (
                b"v v",
                Some(Expiry::Millis(5)),
                Some(Condition::IfExists),
                "SET k \"v v\" XX PX 5",
            ),
            (b"\xff", None, None, "SET k \"\\xff\""),
        ];
        for (value, expiry, condition, shown) in cases {
            assert_eq!(
                show_command(&set_command("k", value, expiry, condition)),
                shown
            );
        }
        assert_eq!(
            show_set(
                "a key",
                2 << 20,
                Some(Expiry::Seconds(10)),
                Some(Condition::IfMissing)
            ),
            "SET \"a key\" <2097152 bytes> NX EX 10"
        );
    }
}
