//! Pipelines and transactions: many commands per round trip, all-or-nothing, optimistic locks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use redis::{Cmd, Value, cmd};

use super::Lesson;
use crate::error::Error;
use crate::reply::{array, b, bulk, int, nil, ok, strs};

pub(super) async fn run(l: &mut Lesson<'_>) -> Result<(), Error> {
    plain(l).await?;
    transaction(l).await?;
    watch(l).await
}

/// A plain pipeline: several commands in one write, the replies in one read.
async fn plain(l: &mut Lesson<'_>) -> Result<(), Error> {
    let (k, list) = (l.key("k"), l.key("list"));
    l.say("A pipeline sends several commands at once and reads all the replies: one round\ntrip instead of four. It is not atomic: other clients' commands may run in between.\n.ignore() drops a reply (here the SET's OK) from the result.")?;
    let mut pipe = redis::pipe();
    pipe.set(&k, 1)
        .ignore()
        .incr(&k, 5)
        .get(&k)
        .rpush(&list, &["a", "b"]);
    l.pipeline(&pipe, array(vec![Value::Int(6), b("6"), Value::Int(2)]))
        .await?;
    Ok(())
}

/// MULTI/EXEC: a transfer between two accounts that no reader ever sees half done.
async fn transaction(l: &mut Lesson<'_>) -> Result<(), Error> {
    const TRANSFERS: i64 = 100;
    let (a, bb) = (l.key("account:a"), l.key("account:b"));
    l.say(&format!("MULTI ... EXEC runs its commands as one: no other client's command runs in\nbetween, so nobody sees money that left account a but has not reached b yet.\nThe redis crate sends MULTI, the commands and EXEC in one write (pipe().atomic()),\nwhich is why it is safe on a shared multiplexed connection. Move 1 from a to b, {TRANSFERS} times:"))?;
    l.step(Cmd::mset(&[(&a, TRANSFERS), (&bb, 0)]), ok())
        .await?;

    // A reader on a connection of its own checks a + b over and over meanwhile.
    let mut reader_conn = l.redis.conn().await?;
    let stop = Arc::new(AtomicBool::new(false));
    let (reads, torn) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (first_read_tx, first_read) = tokio::sync::oneshot::channel::<()>();
    let reader = {
        let (a, bb, stop, reads, torn) = (
            a.clone(),
            bb.clone(),
            stop.clone(),
            reads.clone(),
            torn.clone(),
        );
        tokio::spawn(async move {
            let mut first = Some(first_read_tx);
            while !stop.load(Ordering::Relaxed) {
                let (x, y): (i64, i64) =
                    Cmd::mget(&[&a, &bb]).query_async(&mut reader_conn).await?;
                reads.fetch_add(1, Ordering::Relaxed);
                if x + y != TRANSFERS {
                    torn.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(tx) = first.take() {
                    let _ = tx.send(());
                }
            }
            redis::RedisResult::Ok(())
        })
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), first_read).await;

    let mut transfer = redis::pipe();
    transfer.atomic().decr(&a, 1).incr(&bb, 1);
    l.pipeline(
        &transfer,
        array(vec![Value::Int(TRANSFERS - 1), Value::Int(1)]),
    )
    .await?;
    l.say(&format!(
        "... and {} more of the same, quietly.",
        TRANSFERS - 1
    ))?;
    let mut conn = l.conn.clone();
    for _ in 1..TRANSFERS {
        let _: (i64, i64) = transfer
            .query_async(&mut conn)
            .await
            .map_err(|e| Error::Command {
                command: "MULTI DECRBY INCRBY EXEC".into(),
                reason: crate::error::describe(&e),
            })?;
    }
    stop.store(true, Ordering::Relaxed);
    let reader_result = tokio::time::timeout(Duration::from_secs(10), reader).await;
    let (reads, torn) = (reads.load(Ordering::Relaxed), torn.load(Ordering::Relaxed));
    let reader_ok = matches!(reader_result, Ok(Ok(Ok(()))));
    l.expect_true(
        &format!("a reader made {reads} MGETs meanwhile; every one saw a + b = {TRANSFERS}"),
        reader_ok && reads > 0 && torn == 0,
        &format!("{torn} of {reads} reads saw a + b != {TRANSFERS} (reader ok: {reader_ok})"),
    )?;
    l.step(Cmd::mget(&[&a, &bb]), strs(["0", "100"])).await?;
    Ok(())
}

/// WATCH: optimistic locking. Read, compute, write only if nobody changed the key meanwhile;
/// else EXEC answers (nil) and we try again.
async fn watch(l: &mut Lesson<'_>) -> Result<(), Error> {
    let counter = l.key("counter");
    l.say("WATCH key, read it, then MULTI ... EXEC: EXEC does nothing and answers (nil) if\nthe key changed after WATCH. Then read again and retry. WATCH is state on the\nconnection, so this runs on a connection of its own. We double a counter; another\nclient adds 5 during the first attempt.")?;
    l.step(Cmd::set(&counter, 10), ok()).await?;
    let mut conn = l.slot_node().await?.connect_blocking().await?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        l.say(&format!("attempt {attempt}:"))?;
        l.step_on(&mut conn, cmd("WATCH").arg(&counter).take(), ok())
            .await?;
        let seen = if attempt == 1 { "10" } else { "15" };
        let value = l.step_on(&mut conn, Cmd::get(&counter), bulk(seen)).await?;
        let n: i64 = redis::from_redis_value(value).map_err(|e| Error::Command {
            command: format!("GET {counter}"),
            reason: e.to_string(),
        })?;
        if attempt == 1 {
            l.say("meanwhile, another client:")?;
            l.step(Cmd::incr(&counter, 5), int(15)).await?;
        }
        let mut tx = redis::pipe();
        tx.atomic().set(&counter, n * 2);
        let expect = if attempt == 1 {
            nil()
        } else {
            array(vec![Value::Okay])
        };
        let reply = l.pipeline_on(&mut conn, &tx, expect).await?;
        if reply != Value::Nil || attempt >= 5 {
            break;
        }
        l.say("(nil): the key changed under us, nothing was written. Retry.")?;
    }
    l.say("15 * 2: the other client's +5 was not lost (a blind GET-then-SET would give 20).")?;
    l.step(Cmd::get(&counter), bulk("30")).await?;
    Ok(())
}
