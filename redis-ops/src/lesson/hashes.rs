//! Hashes: a key holding field -> value pairs (an object, a row).

use redis::{AsyncTypedCommands, Cmd, Value, cmd};

use super::{Lesson, drain, flatten_pairs};
use crate::error::Error;
use crate::reply::{array, b, bulk, error, int, nil, ok, pairs, unordered};

pub(super) async fn run(l: &mut Lesson<'_>) -> Result<(), Error> {
    let h = l.key("h");

    l.say("HSET answers how many fields are new: 1, then 0 when it only updates.")?;
    l.step(Cmd::hset(&h, "k1", "v1"), int(1)).await?;
    l.step(Cmd::hset(&h, "k1", "v1b"), int(0)).await?;

    l.say("HSETNX sets a field only if it is not there yet.")?;
    l.step(Cmd::hset_nx(&h, "k1", "x"), int(0)).await?;
    l.step(Cmd::hset_nx(&h, "k2", "v2"), int(1)).await?;

    l.say(
        "Several fields at once: HMSET (what hset_multiple sends; HSET k f v f v ... works too).",
    )?;
    l.step(Cmd::hset_multiple(&h, &[("k3", "v3"), ("k4", "v4")]), ok())
        .await?;
    l.step(
        cmd("HSET")
            .arg(&h)
            .arg("k5")
            .arg("v5")
            .arg("k6")
            .arg("v6")
            .take(),
        int(2),
    )
    .await?;

    l.say("Reading: one field, several fields, everything.")?;
    l.step(Cmd::hget(&h, "k1"), bulk("v1b")).await?;
    l.step(Cmd::hget(&h, "nope"), nil()).await?;
    l.step(
        Cmd::hmget(&h, &["k1", "k2", "nope"]),
        array(vec![b("v1b"), b("v2"), Value::Nil]),
    )
    .await?;
    let all = [
        ("k1", "v1b"),
        ("k2", "v2"),
        ("k3", "v3"),
        ("k4", "v4"),
        ("k5", "v5"),
        ("k6", "v6"),
    ];
    l.step(Cmd::hgetall(&h), pairs(all)).await?;
    l.step(Cmd::hlen(&h), int(6)).await?;
    l.step(
        Cmd::hkeys(&h),
        unordered(["k1", "k2", "k3", "k4", "k5", "k6"]),
    )
    .await?;
    l.step(
        Cmd::hvals(&h),
        unordered(["v1b", "v2", "v3", "v4", "v5", "v6"]),
    )
    .await?;

    l.say("HEXISTS, HDEL (answers how many fields it removed).")?;
    l.step(Cmd::hexists(&h, "k1"), int(1)).await?;
    l.step(Cmd::hdel(&h, &["k5", "k6", "nope"]), int(2)).await?;
    l.step(Cmd::hexists(&h, "k5"), int(0)).await?;

    l.say("Counters inside a hash: HINCRBY (integers), HINCRBYFLOAT.")?;
    l.step(Cmd::hincr(&h, "visits", 5), int(5)).await?;
    l.step(Cmd::hincr(&h, "visits", -2), int(3)).await?;
    l.step(Cmd::hincr(&h, "score", 1.5), bulk("1.5")).await?;
    l.step(
        Cmd::hincr(&h, "k1", 1),
        error("ERR hash value is not an integer"),
    )
    .await?;

    l.say("A hash is not a string: GET on it is a WRONGTYPE error.")?;
    l.step(Cmd::get(&h), error("WRONGTYPE")).await?;

    l.say("HSCAN walks a big hash a few fields at a time; MATCH filters field names.\nredis::AsyncIter follows the cursor until the server answers 0.")?;
    let big = l.key("big");
    let mut fields: Vec<(String, String)> = (1..=30)
        .map(|i| (format!("field:{i}"), format!("value {i}")))
        .collect();
    fields.extend((1..=5).map(|i| (format!("other:{i}"), i.to_string())));
    l.step(Cmd::hset_multiple(&big, &fields), ok()).await?;
    let label = format!("HSCAN {big} <cursor> MATCH field:1*   (iterated to cursor 0)");
    let mut conn = l.conn.clone();
    let found: Vec<(String, String)> =
        drain(&label, conn.hscan_match(&big, "field:1*").await).await?;
    let expected = fields
        .iter()
        .filter(|(f, _)| f.starts_with("field:1"))
        .cloned();
    l.gathered(&label, flatten_pairs(&found), pairs(expected))
        .await?;
    Ok(())
}
