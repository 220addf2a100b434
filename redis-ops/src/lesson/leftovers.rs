//! Leftovers of interrupted runs, and how they heal (issue 13).
//!
//! A run normally deletes its keys, also on failure and Ctrl-C. A Redis that dies or pauses
//! (CLIENT PAUSE) mid-run, or a `kill -9`, leaves them behind. Three things make that heal:
//!
//! - **a run marker**: before its first key, a run writes `lesson-run:{lesson:<id>}` (outside its
//!   key pattern, so KEYS and SCAN in the lesson never see it) holding `<host> <pid>`, with an
//!   expiry of [`MARKER_TTL`] that the run refreshes every [`MARKER_REFRESH`] while it lives;
//! - **a sweep**: the next run, before it starts, finds every `{lesson:<id>}:*` key (SCAN, in the
//!   URL's database and the one MOVE uses, or on every master of a cluster) whose run is gone,
//!   its marker expired, or written on this host by a process that no longer exists, and
//!   deletes them ([`sweep`]);
//! - **an expiry backstop**: in the groups whose transcript shows no TTL (hashes, lists, sets,
//!   zsets), every key a step names gets `EXPIRE <key> 3600 NX` ([`BACKSTOP`]) right after the
//!   step, so their keys vanish within an hour even if no lesson runs again.

use std::time::Duration;

use redis::aio::MultiplexedConnection;

use crate::connect::Redis;
use crate::error::{Error, describe};

/// How long a run's marker lives without being refreshed.
pub const MARKER_TTL: Duration = Duration::from_mins(1);

/// How often a live run refreshes its marker.
pub const MARKER_REFRESH: Duration = Duration::from_secs(15);

/// The expiry backstop of the keys of the hashes, lists, sets and zsets groups.
pub const BACKSTOP: Duration = Duration::from_hours(1);

/// The marker key of the run whose keys start with `prefix` (`{lesson:<id>}:`).
pub fn marker(prefix: &str) -> String {
    format!("lesson-run:{}", prefix.trim_end_matches(':'))
}

/// What the marker holds: this host's name and this process's id.
pub fn owner() -> String {
    format!("{} {}", host(), std::process::id())
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty() && !h.contains(' '))
        .unwrap_or_else(|| "?".to_owned())
}

/// Writes (or refreshes) the run's marker.
pub async fn mark(conn: &mut impl redis::aio::ConnectionLike, prefix: &str) -> Result<(), Error> {
    redis::cmd("SET")
        .arg(marker(prefix))
        .arg(owner())
        .arg("PX")
        .arg(MARKER_TTL.as_millis() as u64)
        .exec_async(conn)
        .await
        .map_err(|e| Error::Command {
            command: format!("SET {} <host pid> PX", marker(prefix)),
            reason: describe(&e),
        })
}

/// Whether the run that wrote marker value `value` (None: no marker) is gone: no marker, or a
/// marker from this host whose process no longer exists.
pub fn gone(value: Option<&str>) -> bool {
    let Some(value) = value else { return true };
    let mut words = value.split(' ');
    match (
        words.next(),
        words.next().and_then(|p| p.parse::<u32>().ok()),
    ) {
        (Some(h), Some(pid)) if h == host() => {
            pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        }
        _ => false,
    }
}

/// Deletes the keys of runs that are gone (see [`gone`]); answers how many keys and runs. On
/// one server, in its database and in `other_db` (the one MOVE uses); on a cluster (one
/// database) on every master: a run's keys and its marker share the hash tag `{lesson:<id>}`,
/// so they live on one master, which the sweep reaches directly.
pub async fn sweep(redis: &Redis, other_db: i64) -> Result<(usize, usize), Error> {
    if !redis.is_cluster() {
        return sweep_node(redis, Some(other_db)).await;
    }
    let (mut keys, mut runs) = (0, 0);
    for master in redis.masters().await? {
        let (k, r) = sweep_node(&master, None).await?;
        keys += k;
        runs += r;
    }
    Ok((keys, runs))
}

/// [`sweep`] on one server, in its database and in `other_db` when given.
async fn sweep_node(redis: &Redis, other_db: Option<i64>) -> Result<(usize, usize), Error> {
    let mut conn = redis.connect().await?;
    let mut prefixes = prefixes_of(&mut conn).await?;
    let mut other = match other_db {
        Some(db) => Some(redis.connect_db(db).await?),
        None => None,
    };
    if let Some(other) = other.as_mut() {
        prefixes.extend(prefixes_of(other).await?);
    }
    prefixes.sort();
    prefixes.dedup();
    let (mut keys, mut runs) = (0, 0);
    for prefix in prefixes {
        let value: Option<String> = redis::cmd("GET")
            .arg(marker(&prefix))
            .query_async(&mut conn)
            .await
            .map_err(|e| fail("GET", &e))?;
        if !gone(value.as_deref()) {
            continue;
        }
        let pattern = format!("{prefix}*");
        let mut deleted = delete_matching(&mut conn, &pattern).await?;
        if let Some(other) = other.as_mut() {
            deleted += delete_matching(other, &pattern).await?;
        }
        let _: i64 = redis::cmd("DEL")
            .arg(marker(&prefix))
            .query_async(&mut conn)
            .await
            .map_err(|e| fail("DEL", &e))?;
        // A run that ended normally between the SCAN and the GET left nothing: not counted.
        if deleted > 0 {
            keys += deleted;
            runs += 1;
        }
    }
    Ok((keys, runs))
}

/// The distinct `{lesson:<id>}:` prefixes of the keys in `conn`'s database.
async fn prefixes_of(conn: &mut MultiplexedConnection) -> Result<Vec<String>, Error> {
    let mut cursor: u64 = 0;
    let mut found = Vec::new();
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg("{lesson:*}:*")
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .map_err(|e| fail("SCAN 0 MATCH {lesson:*}:*", &e))?;
        for key in keys {
            let key = String::from_utf8_lossy(&key);
            if let Some(end) = key.find("}:") {
                found.push(key[..end + 2].to_owned());
            }
        }
        found.sort();
        found.dedup();
        if next == 0 {
            return Ok(found);
        }
        cursor = next;
    }
}

/// Gives every key of `cmd` (an argument under `prefix`) the expiry backstop ([`BACKSTOP`], NX:
/// an expiry the lesson set stays as it is).
pub async fn backstop(
    conn: &mut impl redis::aio::ConnectionLike,
    prefix: &str,
    cmd: &redis::Cmd,
) -> Result<(), Error> {
    let keys: Vec<Vec<u8>> = cmd
        .args_iter()
        .filter_map(|a| match a {
            redis::Arg::Simple(bytes) if bytes.starts_with(prefix.as_bytes()) => {
                Some(bytes.to_vec())
            }
            _ => None,
        })
        .collect();
    for key in keys {
        let _: i64 = redis::cmd("EXPIRE")
            .arg(&key)
            .arg(BACKSTOP.as_secs())
            .arg("NX")
            .query_async(conn)
            .await
            .map_err(|e| fail("EXPIRE (backstop)", &e))?;
    }
    Ok(())
}

/// SCAN MATCH `pattern` to the end, then DEL what it found. Returns how many keys were deleted.
pub async fn delete_matching(
    conn: &mut MultiplexedConnection,
    pattern: &str,
) -> Result<usize, Error> {
    let fail = |e: redis::RedisError| Error::Command {
        command: format!("SCAN 0 MATCH {pattern}"),
        reason: describe(&e),
    };
    let mut cursor: u64 = 0;
    let mut deleted = 0;
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .map_err(fail)?;
        if !keys.is_empty() {
            let n: usize = redis::cmd("DEL")
                .arg(&keys)
                .query_async(conn)
                .await
                .map_err(fail)?;
            deleted += n;
        }
        if next == 0 {
            return Ok(deleted);
        }
        cursor = next;
    }
}

fn fail(command: &str, e: &redis::RedisError) -> Error {
    Error::Command {
        command: command.to_owned(),
        reason: describe(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_owners() {
        assert_eq!(marker("{lesson:ab12}:"), "lesson-run:{lesson:ab12}");
        assert!(gone(None));
        assert!(!gone(Some(&owner())), "this very process is alive");
        assert!(gone(Some(&format!("{} 4194305", host()))), "no such pid");
        assert!(
            !gone(Some("another-host 1")),
            "another host's run is left to its marker"
        );
    }
}
