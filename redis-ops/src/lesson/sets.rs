//! Sets: unordered, no duplicates; membership and set algebra.

use redis::{AsyncTypedCommands, Cmd};

use super::{Lesson, drain};
use crate::error::Error;
use crate::reply::{b, int, one_of, unordered};

pub(super) async fn run(l: &mut Lesson<'_>) -> Result<(), Error> {
    let (s1, s2, out) = (l.key("s1"), l.key("s2"), l.key("out"));

    l.say("SADD answers how many members are new; a set never holds one twice.")?;
    l.step(Cmd::sadd(&s1, &["a", "b", "c", "d"]), int(4))
        .await?;
    l.step(Cmd::sadd(&s1, "a"), int(0)).await?;
    l.step(Cmd::scard(&s1), int(4)).await?;
    l.step(Cmd::sadd(&s2, &["c", "d", "e"]), int(3)).await?;

    l.say("Members come back in no particular order: the checks below accept any order.")?;
    l.step(Cmd::smembers(&s1), unordered(["a", "b", "c", "d"]))
        .await?;
    l.step(Cmd::sismember(&s1, "a"), int(1)).await?;
    l.step(Cmd::sismember(&s1, "z"), int(0)).await?;

    l.say("Set algebra; the ...STORE forms write the result to a key and answer its size.")?;
    l.step(Cmd::sdiff(&[&s1, &s2]), unordered(["a", "b"]))
        .await?;
    l.step(Cmd::sdiffstore(&out, &[&s1, &s2]), int(2)).await?;
    l.step(Cmd::sinter(&[&s1, &s2]), unordered(["c", "d"]))
        .await?;
    l.step(Cmd::sinterstore(&out, &[&s1, &s2]), int(2)).await?;
    l.step(
        Cmd::sunion(&[&s1, &s2]),
        unordered(["a", "b", "c", "d", "e"]),
    )
    .await?;
    l.step(Cmd::sunionstore(&out, &[&s1, &s2]), int(5)).await?;
    l.step(Cmd::smembers(&out), unordered(["a", "b", "c", "d", "e"]))
        .await?;

    l.say("SMOVE moves a member to another set (0: it was not there).")?;
    l.step(Cmd::smove(&s1, &s2, "a"), int(1)).await?;
    l.step(Cmd::smove(&s1, &s2, "zz"), int(0)).await?;
    l.step(Cmd::smembers(&s2), unordered(["a", "c", "d", "e"]))
        .await?;

    l.say("SREM removes members.")?;
    l.step(Cmd::srem(&s1, &["b", "nope"]), int(1)).await?;
    l.step(Cmd::smembers(&s1), unordered(["c", "d"])).await?;

    l.say("SRANDMEMBER picks members without removing them (a count >= the size: all of them);\nSPOP removes and answers a random member.")?;
    l.step(Cmd::srandmember(&s1), one_of(["c", "d"])).await?;
    l.step(Cmd::srandmember_multiple(&s1, 5), unordered(["c", "d"]))
        .await?;
    let popped = l.step(Cmd::spop(&s1), one_of(["c", "d"])).await?;
    let left = if popped == b("c") { "d" } else { "c" };
    l.step(Cmd::smembers(&s1), unordered([left])).await?;

    l.say("SSCAN walks a big set a few members at a time; MATCH filters them.")?;
    let big = l.key("big");
    let mut members: Vec<String> = (1..=50).map(|i| format!("user:{i}")).collect();
    members.extend((1..=4).map(|i| format!("tag:{i}")));
    l.step(Cmd::sadd(&big, &members), int(54)).await?;
    let label = format!("SSCAN {big} <cursor> MATCH tag:*   (iterated to cursor 0)");
    let mut conn = l.conn.clone();
    let found: Vec<String> = drain(&label, conn.sscan_match(&big, "tag:*").await).await?;
    let found = found.iter().map(|m| b(m)).collect();
    l.gathered(
        &label,
        found,
        unordered(["tag:1", "tag:2", "tag:3", "tag:4"]),
    )
    .await?;
    Ok(())
}
