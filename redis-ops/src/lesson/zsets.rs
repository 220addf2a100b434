//! Sorted sets: members ordered by a score (leaderboards, priority queues, time lines).

use redis::{AsyncTypedCommands, Cmd};

use super::{Lesson, drain, flatten_pairs};
use crate::error::Error;
use crate::reply::{bulk, int, nil, pairs, strs};

pub(super) async fn run(l: &mut Lesson<'_>) -> Result<(), Error> {
    let z = l.key("z");

    l.say("ZADD score member ...: answers how many members are new.")?;
    l.step(
        Cmd::zadd_multiple(&z, &[(1, "a"), (2, "b"), (3, "c")]),
        int(3),
    )
    .await?;
    l.step(Cmd::zcard(&z), int(3)).await?;
    l.say("ZCOUNT min max counts scores in a range; '(' excludes an end.")?;
    l.step(Cmd::zcount(&z, 2, 3), int(2)).await?;
    l.step(Cmd::zcount(&z, "(1", "(3"), int(1)).await?;

    l.say("ZINCRBY adds to a score and answers the new one (as text).")?;
    l.step(Cmd::zincr(&z, "a", 10), bulk("11")).await?;
    l.step(Cmd::zscore(&z, "a"), bulk("11")).await?;
    l.step(Cmd::zscore(&z, "nope"), nil()).await?;

    l.say("By rank (0 = lowest score); WITHSCORES interleaves the scores.")?;
    l.step(
        Cmd::zrange_withscores(&z, 0, -1),
        strs(["b", "2", "c", "3", "a", "11"]),
    )
    .await?;
    l.step(Cmd::zrange(&z, 0, 1), strs(["b", "c"])).await?;
    l.step(Cmd::zrevrange(&z, 0, -1), strs(["a", "c", "b"]))
        .await?;
    l.step(Cmd::zrank(&z, "b"), int(0)).await?;
    l.step(Cmd::zrevrank(&z, "b"), int(2)).await?;
    l.step(Cmd::zrank(&z, "nope"), nil()).await?;

    l.say("By score: ZRANGEBYSCORE min max, ZREVRANGEBYSCORE max min (-inf/+inf allowed).")?;
    l.step(Cmd::zrangebyscore(&z, 2, 3), strs(["b", "c"]))
        .await?;
    l.step(
        Cmd::zrangebyscore(&z, "-inf", "+inf"),
        strs(["b", "c", "a"]),
    )
    .await?;
    l.step(Cmd::zrevrangebyscore(&z, "+inf", 3), strs(["a", "c"]))
        .await?;

    l.say("By name, when every score is equal: [ includes, ( excludes, - and + are the ends.")?;
    let lex = l.key("lex");
    l.step(
        Cmd::zadd_multiple(&lex, &[(0, "a"), (0, "b"), (0, "c"), (0, "d"), (0, "e")]),
        int(5),
    )
    .await?;
    l.step(Cmd::zrangebylex(&lex, "[b", "(d"), strs(["b", "c"]))
        .await?;
    l.step(Cmd::zrevrangebylex(&lex, "+", "[c"), strs(["e", "d", "c"]))
        .await?;

    l.say("Removing: ZREM by member, ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX.")?;
    l.step(Cmd::zrem(&z, "a"), int(1)).await?;
    l.step(Cmd::zrange(&z, 0, -1), strs(["b", "c"])).await?;
    l.step(Cmd::zrembylex(&lex, "[a", "[b"), int(2)).await?;
    l.step(Cmd::zrange(&lex, 0, -1), strs(["c", "d", "e"]))
        .await?;
    let r = l.key("r");
    l.step(
        Cmd::zadd_multiple(&r, &[(1, "w"), (2, "x"), (3, "y"), (4, "z")]),
        int(4),
    )
    .await?;
    l.step(Cmd::zremrangebyrank(&r, 0, 1), int(2)).await?;
    l.step(Cmd::zrembyscore(&r, 3, 3), int(1)).await?;
    l.step(Cmd::zrange(&r, 0, -1), strs(["z"])).await?;

    combine(l).await?;
    scan(l).await
}

/// ZINTERSTORE and ZUNIONSTORE, with WEIGHTS and AGGREGATE SUM (default) / MIN / MAX.
async fn combine(l: &mut Lesson<'_>) -> Result<(), Error> {
    let (za, zb, out) = (l.key("za"), l.key("zb"), l.key("out"));
    l.say("Combining sorted sets. za = {a:1 b:2 c:3}, zb = {b:10 c:20 d:30}.")?;
    l.step(
        Cmd::zadd_multiple(&za, &[(1, "a"), (2, "b"), (3, "c")]),
        int(3),
    )
    .await?;
    l.step(
        Cmd::zadd_multiple(&zb, &[(10, "b"), (20, "c"), (30, "d")]),
        int(3),
    )
    .await?;
    let all = || Cmd::zrange_withscores(&out, 0, -1);

    l.say("ZINTERSTORE keeps members in every set; scores are summed (AGGREGATE SUM).")?;
    l.step(Cmd::zinterstore(&out, &[&za, &zb]), int(2)).await?;
    l.step(all(), strs(["b", "12", "c", "23"])).await?;
    l.say("WEIGHTS multiply each set's scores first: 2*za + 1*zb.")?;
    l.step(
        Cmd::zinterstore_weights(&out, &[(&za, 2), (&zb, 1)]),
        int(2),
    )
    .await?;
    l.step(all(), strs(["b", "14", "c", "26"])).await?;
    l.step(Cmd::zinterstore_min(&out, &[&za, &zb]), int(2))
        .await?;
    l.step(all(), strs(["b", "2", "c", "3"])).await?;
    l.step(Cmd::zinterstore_max(&out, &[&za, &zb]), int(2))
        .await?;
    l.step(all(), strs(["b", "10", "c", "20"])).await?;

    l.say("ZUNIONSTORE keeps members of any set.")?;
    l.step(Cmd::zunionstore(&out, &[&za, &zb]), int(4)).await?;
    l.step(all(), strs(["a", "1", "b", "12", "c", "23", "d", "30"]))
        .await?;
    l.step(Cmd::zunionstore_min(&out, &[&za, &zb]), int(4))
        .await?;
    l.step(all(), strs(["a", "1", "b", "2", "c", "3", "d", "30"]))
        .await?;
    l.say("With weights 1 and 0.5 and AGGREGATE MAX: b = max(2, 5), c = max(3, 10), d = 15.")?;
    l.step(
        Cmd::zunionstore_max_weights(&out, &[(&za, 1.0), (&zb, 0.5)]),
        int(4),
    )
    .await?;
    l.step(all(), strs(["a", "1", "b", "5", "c", "10", "d", "15"]))
        .await?;
    Ok(())
}

/// ZSCAN: a big sorted set, a few members at a time.
async fn scan(l: &mut Lesson<'_>) -> Result<(), Error> {
    let big = l.key("big");
    l.say("ZSCAN walks a big sorted set; it answers member, score pairs.")?;
    let mut items: Vec<(i64, String)> = (1..=40).map(|i| (i, format!("player:{i}"))).collect();
    items.push((100, "boss:1".into()));
    items.push((200, "boss:2".into()));
    l.step(Cmd::zadd_multiple(&big, &items), int(42)).await?;
    let label = format!("ZSCAN {big} <cursor> MATCH boss:*   (iterated to cursor 0)");
    let mut conn = l.conn.clone();
    let found: Vec<(String, String)> =
        drain(&label, conn.zscan_match(&big, "boss:*").await).await?;
    l.gathered(
        &label,
        flatten_pairs(&found),
        pairs([("boss:1", "100"), ("boss:2", "200")]),
    )
    .await?;
    Ok(())
}
