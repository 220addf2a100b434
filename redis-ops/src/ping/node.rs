//! The check of one server: AUTH (when the URL has a password), PING, SELECT (when it names a
//! database), `INFO server` for the version, then the round trip: SET a random value under a
//! fresh key with a short expiry, GET it back, compare, DEL.

use std::time::Duration;

use common::probe::{Passed, Refusal};
use tokio::time::Instant;

use super::link::{Answer, Link, server_error};
use crate::connect::Redis;

/// One server, checked.
pub(super) async fn check(redis: &Redis, timeout: Duration) -> Result<Passed, Refusal> {
    let deadline = Instant::now() + timeout;
    let (host, port) = redis.addr().map_err(|e| Refusal::failed(e.to_string()))?;
    let tls = redis
        .tls_connector()
        .map_err(|e| Refusal::failed(e.to_string()))?;
    let mut link = Link::open(&host, port, tls.as_ref(), deadline, timeout).await?;
    hello(&mut link, redis).await?;
    let server = server_name(&mut link).await?;
    let round_trip = round_trip(&mut link, &key(""), timeout).await?;
    Ok(Passed { server, round_trip })
}

/// AUTH as the URL says, PING, and SELECT its database.
pub(super) async fn hello(link: &mut Link, redis: &Redis) -> Result<(), Refusal> {
    if let (user, Some(password)) = redis.credentials() {
        let mut auth: Vec<&[u8]> = vec![b"AUTH"];
        auth.extend(user.map(str::as_bytes));
        auth.push(password.as_bytes());
        let a = link.call(&auth).await?;
        if !a.is_status("OK") {
            return Err(refused(link, "AUTH", &a));
        }
    }
    let a = link.call(&[b"PING"]).await?;
    if !a.is_status("PONG") {
        return Err(refused(link, "PING", &a));
    }
    if redis.db() != 0 {
        let db = redis.db().to_string();
        let a = link.call(&[b"SELECT", db.as_bytes()]).await?;
        if !a.is_status("OK") {
            return Err(refused(link, "SELECT", &a));
        }
    }
    Ok(())
}

/// `Redis 7.0.15` (or `Valkey 8.0.1`), from `INFO server`; `Redis` when INFO is not allowed.
pub(super) async fn server_name(link: &mut Link) -> Result<String, Refusal> {
    let a = link.call(&[b"INFO", b"server"]).await?;
    if a.is_error() {
        let refusal = server_error("INFO", &a);
        return if refusal.not_ready {
            Err(refusal)
        } else {
            Ok("Redis".to_owned())
        };
    }
    let Some(info) = a.bulk() else {
        return Err(link.unexpected("INFO", &a));
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
    link: &mut Link,
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
    let a = link.call(&set).await?;
    if !a.is_status("OK") {
        return Err(refused(link, "SET", &a));
    }
    let got = link.call(&[b"GET", key.as_bytes()]).await;
    let took = started.elapsed();
    // Delete whatever GET said (the expiry is the safety net if this fails).
    let deleted = link.call(&[b"DEL", key.as_bytes()]).await;
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
                got.shown()
            )));
        }
    }
    let deleted = deleted?;
    if deleted.is_error() {
        return Err(server_error("DEL", &deleted));
    }
    Ok(took)
}

/// An answer other than the one expected: the server's error in words, or "not Redis".
fn refused(link: &Link, name: &str, a: &Answer) -> Refusal {
    if a.is_error() {
        server_error(name, a)
    } else {
        link.unexpected(name, a)
    }
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
