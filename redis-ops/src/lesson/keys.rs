//! Keys of any type: existence, patterns, expiry, renaming, moving, SCAN.

use redis::{Cmd, Value, cmd};

use super::Lesson;
use crate::error::Error;
use crate::reply::{Expect, between, int, ok, status, unordered};

pub(super) async fn run(l: &mut Lesson<'_>) -> Result<(), Error> {
    let names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "world"];
    for name in names {
        l.step(Cmd::set(l.key(name), name), ok()).await?;
    }

    l.say("KEYS pattern: ? is one character, * any number, [ae] one of a or e.\nThe patterns start with the run's prefix, so they only match this lesson's keys\n(KEYS still walks the whole database to find them: see SCAN below).")?;
    let p = l.prefix().to_owned();
    l.step(
        Cmd::keys(format!("{p}h?llo")),
        unordered_keys(&p, &["hello", "hallo", "hxllo"]),
    )
    .await?;
    l.step(
        Cmd::keys(format!("{p}h*llo")),
        unordered_keys(&p, &["hello", "hallo", "hxllo", "hllo", "heeeello"]),
    )
    .await?;
    l.step(
        Cmd::keys(format!("{p}h[ae]llo")),
        unordered_keys(&p, &["hello", "hallo"]),
    )
    .await?;

    l.say("DEL answers how many keys it removed, EXISTS how many of the keys exist.")?;
    l.step(Cmd::del(&[l.key("hxllo"), l.key("nope")]), int(1))
        .await?;
    l.step(Cmd::exists(l.key("hello")), int(1)).await?;
    l.step(
        Cmd::exists(&[l.key("hello"), l.key("hallo"), l.key("nope")]),
        int(2),
    )
    .await?;

    l.say("EXPIRE sets a time to live; TTL reads it: -1 = no expiry, -2 = no such key.")?;
    let hello = l.key("hello");
    l.step(Cmd::expire(&hello, 100), int(1)).await?;
    l.step(Cmd::ttl(&hello), between(50, 100)).await?;
    l.step(Cmd::ttl(l.key("world")), int(-1)).await?;
    l.step(Cmd::ttl(l.key("nope")), int(-2)).await?;

    l.say("RENAME gives a key a new name (its value and TTL go with it).")?;
    let hola = l.key("hola");
    l.step(Cmd::rename(&hello, &hola), ok()).await?;
    l.step(Cmd::exists(&hello), int(0)).await?;
    l.step(Cmd::ttl(&hola), between(50, 100)).await?;

    l.say("TYPE names what a key holds.")?;
    let (list, set) = (l.key("list"), l.key("set"));
    l.step(Cmd::rpush(&list, "x"), int(1)).await?;
    l.step(Cmd::sadd(&set, "x"), int(1)).await?;
    l.step(Cmd::key_type(&hola), status("string")).await?;
    l.step(Cmd::key_type(&list), status("list")).await?;
    l.step(Cmd::key_type(&set), status("set")).await?;
    l.step(Cmd::key_type(l.key("nope")), status("none")).await?;

    if l.on_cluster() {
        l.say("(skipped on a cluster: MOVE key db. A Redis Cluster has database 0 only;\nMOVE and SELECT to another database are refused there.)")?;
    } else {
        move_db(l).await?;
    }

    l.say("RANDOMKEY names a random key of the whole database (maybe not one of ours: we\nonly read its name).")?;
    l.step(
        cmd("RANDOMKEY").take(),
        Expect::Some("a key name (the database is not empty)"),
    )
    .await?;

    scan(l).await
}

/// MOVE to another database and back (not on a cluster).
async fn move_db(l: &mut Lesson<'_>) -> Result<(), Error> {
    let hola = l.key("hola");
    let here = l.redis.db();
    let there = l.other_db();
    l.say(&format!(
        "MOVE key db: the key leaves database {here} for database {there} (and comes back)."
    ))?;
    l.step(cmd("MOVE").arg(&hola).arg(there).take(), int(1))
        .await?;
    l.step(Cmd::exists(&hola), int(0)).await?;
    let mut other = l.redis.connect_db(there).await?;
    l.say(&format!("on a connection to database {there}:"))?;
    l.step_on(&mut other, Cmd::exists(&hola), int(1)).await?;
    l.step_on(&mut other, cmd("MOVE").arg(&hola).arg(here).take(), int(1))
        .await?;
    l.say(&format!("back on database {here}:"))?;
    l.step(Cmd::exists(&hola), int(1)).await?;
    Ok(())
}

/// SCAN with MATCH, iterated by hand to cursor 0, and why not KEYS.
async fn scan(l: &mut Lesson<'_>) -> Result<(), Error> {
    l.say("Never KEYS on real data: it walks every key of the database in one command, and\nRedis runs one command at a time, so every client waits (seconds, on millions of\nkeys). SCAN walks the key space a little per call: each call answers a cursor and\nsome keys (maybe none, maybe a key twice); you are done when the cursor is 0.")?;
    let p = l.prefix().to_owned();
    let pattern = format!("{p}*");
    if l.on_cluster() {
        l.say("On a cluster each node has its own key space, so SCAN walks one node: here the\nmaster of this run's hash slot (the {lesson:...} tag puts every key of the run there).")?;
    }
    let mut node = l.slot_node().await?.connect().await?;
    let mut cursor = "0".to_owned();
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut calls = 0;
    loop {
        let page = cmd("SCAN")
            .arg(&cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(100)
            .take();
        let reply = l
            .step_on(&mut node, page, Expect::Some("[next cursor, [keys...]]"))
            .await?;
        calls += 1;
        let (next, keys): (String, Vec<Vec<u8>>) =
            redis::from_redis_value(reply).map_err(|e| Error::Command {
                command: format!("SCAN {cursor}"),
                reason: e.to_string(),
            })?;
        found.extend(keys);
        if next == "0" || calls > 100_000 {
            break;
        }
        cursor = next;
    }
    found.sort();
    found.dedup();
    let expected = ["hallo", "hllo", "heeeello", "world", "hola", "list", "set"];
    l.gathered(
        &format!("every key SCAN found ({calls} call(s), duplicates removed)"),
        found.into_iter().map(Value::BulkString).collect(),
        unordered_keys(&p, &expected),
    )
    .await?;
    Ok(())
}

/// The full names of these lesson keys, in any order.
fn unordered_keys(prefix: &str, names: &[&str]) -> Expect {
    unordered(names.iter().map(|n| format!("{prefix}{n}")))
}
