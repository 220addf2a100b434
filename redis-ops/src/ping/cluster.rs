//! The check of a Redis Cluster (`--cluster`): a seed node must say `cluster_state:ok` in
//! `CLUSTER INFO` and `CLUSTER SLOTS` must cover all 16384 slots; then the round trip of
//! `super::node` runs on every master at once, with a key whose hash tag hashes into that
//! master's slots, so the data really goes through each of them.

use std::time::Duration;

use common::probe::{Passed, Refusal};
use redis::Value;
use tokio::time::Instant;

use super::node::{key, round_trip, server_name};
use super::session::{Session, server_error};
use crate::connect::Redis;
use crate::link::Endpoint;

/// How many hash slots a cluster has.
pub const SLOTS: u16 = 16384;

/// One master: where, and the slot ranges it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Master {
    host: String,
    port: u16,
    ranges: Vec<(u16, u16)>,
}

/// The cluster known by the seeds of `redis`, checked.
pub(super) async fn check(redis: &Redis, timeout: Duration) -> Result<Passed, Refusal> {
    let deadline = Instant::now() + timeout;
    let to = redis
        .endpoint()
        .map_err(|e| Refusal::failed(e.to_string()))?;
    let mut session = None;
    let mut first_refusal = None;
    for (host, port) in redis.node_addrs() {
        match Session::connect(&to.node(&host, port), deadline, timeout).await {
            Ok(s) => {
                session = Some((s, host));
                break;
            }
            Err(r) => {
                first_refusal.get_or_insert(r);
            }
        }
    }
    let Some((mut session, seed_host)) = session else {
        return Err(first_refusal.unwrap_or_else(|| Refusal::failed("no seed node")));
    };
    session.hello(&to).await?;
    let a = session.call(&[b"CLUSTER", b"INFO"]).await?;
    if a.is_error() {
        let text = a.text();
        return Err(if text.contains("cluster support disabled") {
            Refusal::failed(format!("not a cluster node ({text})"))
        } else {
            server_error("CLUSTER INFO", &a)
        });
    }
    let Some(info) = a.bulk() else {
        return Err(session.unexpected("CLUSTER INFO", &a));
    };
    let state = String::from_utf8_lossy(info)
        .lines()
        .find_map(|l| l.strip_prefix("cluster_state:"))
        .map_or_else(|| "unknown".to_owned(), |s| s.trim().to_owned());
    let server = server_name(&mut session).await?;
    let a = session.call(&[b"CLUSTER", b"SLOTS"]).await?;
    let masters = match a.value() {
        Some(Value::Array(ranges)) => masters(&ranges, &seed_host),
        _ if a.is_error() => return Err(server_error("CLUSTER SLOTS", &a)),
        _ => return Err(session.unexpected("CLUSTER SLOTS", &a)),
    };
    let gaps = uncovered(&masters);
    if state != "ok" || !gaps.is_empty() {
        let gaps = if gaps.is_empty() {
            String::new()
        } else {
            format!(", slots not covered: {}", ranges_text(&gaps))
        };
        return Err(Refusal::not_ready(format!("cluster_state:{state}{gaps}")));
    }
    let checks = masters
        .iter()
        .map(|m| check_master(&to, m, deadline, timeout));
    let mut slowest = Duration::ZERO;
    for (m, result) in masters
        .iter()
        .zip(futures_util::future::join_all(checks).await)
    {
        match result {
            Ok(took) => slowest = slowest.max(took),
            Err(r) => {
                return Err(Refusal {
                    reason: format!("master {}:{}: {}", m.host, m.port, r.reason),
                    not_ready: r.not_ready,
                });
            }
        }
    }
    let plural = if masters.len() == 1 { "" } else { "s" };
    Ok(Passed {
        server: format!("{server}, cluster of {} master{plural}", masters.len()),
        round_trip: slowest,
    })
}

/// The round trip on one master, with a key in one of its slots.
async fn check_master(
    seed: &Endpoint,
    m: &Master,
    deadline: Instant,
    timeout: Duration,
) -> Result<Duration, Refusal> {
    let tag =
        tag_for(&m.ranges).ok_or_else(|| Refusal::failed("no hash tag hashes into its slots"))?;
    let mut session = Session::open(&seed.node(&m.host, m.port), deadline, timeout).await?;
    round_trip(&mut session, &key(&tag), timeout).await
}

/// The masters of a CLUSTER SLOTS reply, `[[start, end, [host, port, id], replicas...], ...]`,
/// each with its ranges, in the order first seen. An empty host is the seed's.
fn masters(reply: &[Value], seed_host: &str) -> Vec<Master> {
    let mut masters: Vec<Master> = Vec::new();
    for range in reply {
        let Value::Array(items) = range else { continue };
        let (Some(Value::Int(start)), Some(Value::Int(end)), Some(Value::Array(node))) =
            (items.first(), items.get(1), items.get(2))
        else {
            continue;
        };
        let host = match node.first() {
            Some(Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
            Some(Value::SimpleString(s)) => s.clone(),
            _ => continue,
        };
        let host = if host.is_empty() {
            seed_host.to_owned()
        } else {
            host
        };
        let (Some(Value::Int(port)), Ok(start), Ok(end)) =
            (node.get(1), u16::try_from(*start), u16::try_from(*end))
        else {
            continue;
        };
        let Ok(port) = u16::try_from(*port) else {
            continue;
        };
        match masters
            .iter_mut()
            .find(|m| m.host == host && m.port == port)
        {
            Some(m) => m.ranges.push((start, end)),
            None => masters.push(Master {
                host,
                port,
                ranges: vec![(start, end)],
            }),
        }
    }
    masters
}

/// The slot ranges no master serves.
fn uncovered(masters: &[Master]) -> Vec<(u16, u16)> {
    let mut covered = vec![false; usize::from(SLOTS)];
    for (start, end) in masters.iter().flat_map(|m| &m.ranges) {
        for slot in *start..=(*end).min(SLOTS - 1) {
            covered[usize::from(slot)] = true;
        }
    }
    let mut gaps = Vec::new();
    let mut slot = 0;
    while slot < SLOTS {
        if covered[usize::from(slot)] {
            slot += 1;
            continue;
        }
        let start = slot;
        while slot < SLOTS && !covered[usize::from(slot)] {
            slot += 1;
        }
        gaps.push((start, slot - 1));
    }
    gaps
}

/// `0-5460, 10923-16383`.
fn ranges_text(ranges: &[(u16, u16)]) -> String {
    ranges
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first hash tag (`0`, `1`, ...) whose slot one of `ranges` holds.
fn tag_for(ranges: &[(u16, u16)]) -> Option<String> {
    (0..1_000_000u32).map(|n| n.to_string()).find(|tag| {
        let s = slot(tag.as_bytes());
        ranges.iter().any(|(a, b)| (*a..=*b).contains(&s))
    })
}

/// The hash slot of a key: CRC16 (XMODEM) of its hash tag (the part between the first `{` and
/// the next `}`, when not empty) or of the whole key, modulo 16384.
pub fn slot(key: &[u8]) -> u16 {
    let hashed = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            let close = rest.iter().position(|&b| b == b'}')?;
            (close > 0).then(|| &rest[..close])
        })
        .unwrap_or(key);
    crc16(hashed) % SLOTS
}

/// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as Redis Cluster uses it.
fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 == 0 {
                crc << 1
            } else {
                (crc << 1) ^ 0x1021
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_as_redis_computes_them() {
        assert_eq!(crc16(b"123456789"), 0x31c3);
        // CLUSTER KEYSLOT answers these.
        assert_eq!(slot(b"foo"), 12182);
        assert_eq!(slot(b"bar"), 5061);
        assert_eq!(slot(b"{user1000}.following"), slot(b"user1000"));
        assert_eq!(slot(b"foo{}{bar}"), slot(b"foo{}{bar}"));
        assert_eq!(slot(b"{}x"), crc16(b"{}x") % SLOTS);
    }

    #[test]
    fn a_tag_for_every_master_and_the_gaps() {
        let node = |p: i64| {
            Value::Array(vec![
                Value::BulkString(b"127.0.0.1".to_vec()),
                Value::Int(p),
            ])
        };
        let range =
            |a: i64, b: i64, p: i64| Value::Array(vec![Value::Int(a), Value::Int(b), node(p)]);
        let reply = vec![
            range(0, 5460, 7000),
            range(10923, 16383, 7002),
            range(5461, 5470, 7000),
        ];
        let ms = masters(&reply, "seed");
        assert_eq!(ms.len(), 2);
        assert_eq!(ms[0].ranges, vec![(0, 5460), (5461, 5470)]);
        assert_eq!(ranges_text(&uncovered(&ms)), "5471-10922");
        for m in &ms {
            let tag = tag_for(&m.ranges).unwrap();
            let s = slot(format!("x{{{tag}}}y").as_bytes());
            assert!(
                m.ranges.iter().any(|(a, b)| (*a..=*b).contains(&s)),
                "{tag}"
            );
        }
        assert!(tag_for(&[(16383, 16383)]).is_some());
    }
}
