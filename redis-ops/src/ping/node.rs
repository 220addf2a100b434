//! The check of one server: AUTH (when the URL has a password), PING, SELECT (when it names a
//! database) as the [`Session`] opens, `INFO server` for the version, then the round trip: SET a
//! random value under a fresh key with a short expiry, GET it back, compare, DEL.

use std::time::Duration;

use common::probe::{Passed, Refusal};
use tokio::time::Instant;

use super::session::{Session, server_error, shown};
use crate::connect::Redis;

/// One server, checked.
pub(super) async fn check(redis: &Redis, timeout: Duration) -> Result<Passed, Refusal> {
    let deadline = Instant::now() + timeout;
    let to = redis
        .endpoint()
        .map_err(|e| Refusal::failed(e.to_string()))?;
    let mut session = Session::open(&to, deadline, timeout).await?;
    let server = server_name(&mut session).await?;
    let round_trip = round_trip(&mut session, &key(""), timeout).await?;
    Ok(Passed { server, round_trip })
}

/// `Redis 7.0.15` (or `Valkey 8.0.1`), from `INFO server`; `Redis` when INFO is not allowed.
pub(super) async fn server_name(session: &mut Session) -> Result<String, Refusal> {
    let a = session.call(&[b"INFO", b"server"]).await?;
    if a.is_error() {
        let refusal = server_error("INFO", &a);
        return if refusal.not_ready {
            Err(refusal)
        } else {
            Ok("Redis".to_owned())
        };
    }
    let Some(info) = a.bulk() else {
        return Err(session.unexpected("INFO", &a));
    };
    let info = String::from_utf8_lossy(info);
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
    };
    Ok(match (field("valkey_version"), field("redis_version")) {
        (Some(v), _) => format!("Valkey {v}"),
        (None, Some(v)) => format!("Redis {v}"),
        (None, None) => "Redis".to_owned(),
    })
}

/// A fresh key, `redis-ops:ping:<tag>:<pid>-<random>`: `tag` is a cluster hash tag (`{12}`) or
/// empty.
pub(super) fn key(tag: &str) -> String {
    let tag = if tag.is_empty() {
        String::new()
    } else {
        format!("{{{tag}}}:")
    };
    format!(
        "redis-ops:ping:{tag}{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    )
}

/// SET `key` to a random value with an expiry (so that nothing stays even if the DEL never
/// happens), GET it, compare, DEL. Answers the time from the SET to GET's answer.
pub(super) async fn round_trip(
    session: &mut Session,
    key: &str,
    timeout: Duration,
) -> Result<Duration, Refusal> {
    let value = format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    );
    let expiry = timeout.max(Duration::from_secs(5)).saturating_mul(2);
    let px = expiry.as_millis().to_string();
    let started = std::time::Instant::now();
    let set: [&[u8]; 6] = [
        b"SET",
        key.as_bytes(),
        value.as_bytes(),
        b"PX",
        px.as_bytes(),
        b"NX",
    ];
    let a = session.call(&set).await?;
    if !a.is_status("OK") {
        return Err(session.refused("SET", &a));
    }
    let got = session.call(&[b"GET", key.as_bytes()]).await;
    let took = started.elapsed();
    // Delete whatever GET said (the expiry is the safety net if this fails).
    let deleted = session.call(&[b"DEL", key.as_bytes()]).await;
    let got = got?;
    match got.bulk() {
        Some(v) if v == value.as_bytes() => {}
        Some(_) => {
            return Err(Refusal::failed(
                "GET answered other bytes than SET stored".to_owned(),
            ));
        }
        None if got.is_error() => return Err(server_error("GET", &got)),
        None => {
            return Err(Refusal::failed(format!(
                "GET found no value right after SET (answered {})",
                shown(got.raw())
            )));
        }
    }
    let deleted = deleted?;
    if deleted.is_error() {
        return Err(server_error("DEL", &deleted));
    }
    Ok(took)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_fresh_and_tagged() {
        let (a, b) = (key(""), key(""));
        assert_ne!(a, b);
        assert!(a.starts_with("redis-ops:ping:"), "{a}");
        assert!(key("12").starts_with("redis-ops:ping:{12}:"));
    }
}
