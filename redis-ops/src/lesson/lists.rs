//! Lists: ordered, pushed and popped at both ends; queues with blocking pops.

use std::time::Duration;

use futures_util::TryStreamExt;
use redis::{Cmd, Value};

use super::Lesson;
use crate::error::{Error, describe};
use crate::iter::list_batches;
use crate::reply::{array, b, bulk, error, int, nil, ok, show_arg, strs};

pub(super) async fn run(l: &mut Lesson<'_>) -> Result<(), Error> {
    let list = l.key("list");
    let missing = l.key("missing");

    l.say("LPUSH adds at the head, one value after the other: 11, 22, 33 is stored 33 22 11.")?;
    l.step(Cmd::lpush(&list, &[11, 22, 33]), int(3)).await?;
    l.step(Cmd::lrange(&list, 0, -1), strs(["33", "22", "11"]))
        .await?;
    l.say("RPUSH adds at the tail. Both answer the new length.")?;
    l.step(Cmd::rpush(&list, &[44, 55]), int(5)).await?;

    l.say("LPUSHX / RPUSHX push only onto an existing list (0: nothing done).")?;
    l.step(Cmd::lpush_exists(&list, "0"), int(6)).await?;
    l.step(Cmd::lpush_exists(&missing, "0"), int(0)).await?;
    l.step(Cmd::rpush_exists(&list, "66"), int(7)).await?;
    l.step(Cmd::rpush_exists(&missing, "66"), int(0)).await?;
    l.step(Cmd::llen(&list), int(7)).await?;

    l.say("LINSERT puts a value before or after the first element equal to a pivot.")?;
    l.step(Cmd::linsert_before(&list, "22", "21"), int(8))
        .await?;
    l.step(Cmd::linsert_after(&list, "22", "23"), int(9))
        .await?;
    l.step(
        Cmd::lrange(&list, 0, -1),
        strs(["0", "33", "21", "22", "23", "11", "44", "55", "66"]),
    )
    .await?;

    l.say("LSET replaces the element at an index; outside the list it is an error.")?;
    l.step(Cmd::lset(&list, 0, "zero"), ok()).await?;
    l.step(Cmd::lset(&list, 99, "x"), error("ERR index out of range"))
        .await?;

    l.say("LREM count value: count > 0 removes from the head, < 0 from the tail, 0 all of them.")?;
    let r = l.key("r");
    l.step(Cmd::rpush(&r, &["a", "b", "a", "c", "a", "b", "a"]), int(7))
        .await?;
    l.step(Cmd::lrem(&r, 2, "a"), int(2)).await?;
    l.step(Cmd::lrange(&r, 0, -1), strs(["b", "c", "a", "b", "a"]))
        .await?;
    l.step(Cmd::lrem(&r, -2, "a"), int(2)).await?;
    l.step(Cmd::lrange(&r, 0, -1), strs(["b", "c", "b"]))
        .await?;
    l.step(Cmd::lrem(&r, 0, "b"), int(2)).await?;
    l.step(Cmd::lrange(&r, 0, -1), strs(["c"])).await?;

    l.say("LPOP / RPOP take an element off the head / tail.")?;
    l.step(Cmd::lpop(&list, None), bulk("zero")).await?;
    l.step(Cmd::rpop(&list, None), bulk("66")).await?;

    l.say("LINDEX reads by index (negative: from the tail); LRANGE a range, both ends included.")?;
    l.step(Cmd::lindex(&list, 0), bulk("33")).await?;
    l.step(Cmd::lindex(&list, -1), bulk("55")).await?;
    l.step(Cmd::lindex(&list, 99), nil()).await?;
    l.step(Cmd::lrange(&list, 0, 2), strs(["33", "21", "22"]))
        .await?;

    l.say("LTRIM keeps only a range.")?;
    l.step(Cmd::ltrim(&list, 1, 3), ok()).await?;
    l.step(Cmd::lrange(&list, 0, -1), strs(["21", "22", "23"]))
        .await?;

    l.say("RPOPLPUSH moves the tail of one list to the head of another (a reliable queue).")?;
    let done = l.key("done");
    l.step(Cmd::rpoplpush(&list, &done), bulk("23")).await?;
    l.step(Cmd::rpoplpush(&list, &done), bulk("22")).await?;
    l.step(Cmd::lrange(&done, 0, -1), strs(["22", "23"]))
        .await?;

    blocking(l).await?;
    batches(l).await
}

/// BLPOP, BRPOP, BRPOPLPUSH: wait for an element instead of polling.
async fn blocking(l: &mut Lesson<'_>) -> Result<(), Error> {
    let queue = l.key("queue");
    let done = l.key("done");
    l.say("Blocking pops wait (up to a timeout in seconds) for an element to arrive.\nA waiting BLPOP holds its connection, so it gets one of its own: on the shared\nmultiplexed connection every other command would queue behind it.")?;
    let mut waiter = l.slot_node().await?.connect_blocking().await?;

    l.say("Nothing arrives within 0.2 s: (nil).")?;
    l.step_on(&mut waiter, Cmd::blpop(&queue, 0.2), nil())
        .await?;

    l.say("A consumer waits on its own connection; a producer pushes on the shared one.")?;
    let pop = Cmd::blpop(&queue, 5.0);
    l.show(&pop)?;
    l.say("(blocked...)")?;
    let consumer = {
        let pop = pop.clone();
        let mut conn = waiter.clone();
        tokio::spawn(async move { pop.query_async::<Value>(&mut conn).await })
    };
    // Give the BLPOP time to reach the server, so it really waits.
    tokio::time::sleep(Duration::from_millis(100)).await;
    l.step(Cmd::rpush(&queue, "job 1"), int(1)).await?;
    let reply = match tokio::time::timeout(Duration::from_secs(10), consumer).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(join)) => {
            return Err(Error::Command {
                command: crate::reply::show_command(&pop),
                reason: join.to_string(),
            });
        }
        Err(_) => {
            return Err(Error::TimedOut {
                what: format!("> {}", crate::reply::show_command(&pop)),
                after: Duration::from_secs(10),
            });
        }
    };
    l.say("the consumer woke up with [list, element]:")?;
    l.check(
        &crate::reply::show_command(&pop),
        reply,
        &array(vec![b(&queue), b("job 1")]),
    )
    .await?;

    l.say("With elements waiting, BRPOP answers at once (from the tail).")?;
    l.step(Cmd::rpush(&queue, &["a", "b"]), int(2)).await?;
    l.step_on(&mut waiter, Cmd::brpop(&queue, 1.0), strs([&queue, "b"]))
        .await?;
    l.say("BRPOPLPUSH: the blocking RPOPLPUSH.")?;
    l.step_on(&mut waiter, Cmd::brpoplpush(&queue, &done, 1.0), bulk("a"))
        .await?;
    l.step(Cmd::lrange(&done, 0, 0), strs(["a"])).await?;
    Ok(())
}

/// Iterating a long list in batches (`crate::iter::list_batches`).
async fn batches(l: &mut Lesson<'_>) -> Result<(), Error> {
    let big = l.key("big");
    let values: Vec<String> = (1..=10).map(|i| i.to_string()).collect();
    l.say("Iterating a long list in batches: crate::iter::list_batches(conn, key, 3) sends\nLRANGE key 0 2, LRANGE key 3 5, ... until a batch comes back short.")?;
    l.step(Cmd::rpush(&big, &values), int(10)).await?;
    let mut stream = std::pin::pin!(list_batches(l.conn.clone(), big.clone(), 3));
    let mut all = Vec::new();
    let mut n = 0;
    while let Some(batch) = stream.try_next().await.map_err(|e| Error::Command {
        command: format!("LRANGE {big} ..."),
        reason: describe(&e),
    })? {
        let first = n * 3;
        n += 1;
        let shown: Vec<String> = batch.iter().map(|v| show_arg(v)).collect();
        l.say(&format!(
            "batch {n} (LRANGE {big} {first} {}): {}",
            first + 2,
            shown.join(" ")
        ))?;
        all.extend(batch.into_iter().map(Value::BulkString));
    }
    l.gathered(
        &format!("list_items({big}, batch 3)   ({n} round trips)"),
        all,
        strs(&values),
    )
    .await?;
    l.expect_true(
        "4 batches of at most 3 for 10 elements",
        n == 4,
        &format!("{n} batches"),
    )
}
