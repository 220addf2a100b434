//! Strings: SET and its options, counters, ranges, bits.

use redis::{Cmd, ExistenceCheck, SetExpiry, SetOptions, cmd};

use super::Lesson;
use crate::error::Error;
use crate::reply::{array, b, between, bulk, bytes, error, int, nil, ok};

pub(super) async fn run(l: &mut Lesson<'_>) -> Result<(), Error> {
    let greeting = l.key("greeting");
    let session = l.key("session");
    let missing = l.key("missing");

    l.say("SET stores a value under a key, GET reads it back.")?;
    l.step(Cmd::set(&greeting, "hello"), ok()).await?;
    l.step(Cmd::get(&greeting), bulk("hello")).await?;

    l.say("EX / PX: the key expires after that many seconds / milliseconds. TTL / PTTL\nanswer the time left (the checks allow for time passing, and for --pause).")?;
    let ex = SetOptions::default().with_expiration(SetExpiry::EX(100));
    l.step(Cmd::set_options(&session, "token", ex), ok())
        .await?;
    l.step(Cmd::ttl(&session), between(50, 100)).await?;
    let px = SetOptions::default().with_expiration(SetExpiry::PX(100_000));
    l.step(Cmd::set_options(&session, "token", px), ok())
        .await?;
    l.step(Cmd::pttl(&session), between(50_000, 100_000))
        .await?;

    l.say("NX: only if the key is new. XX: only if it exists. (nil) means \"not set\".")?;
    let nx = SetOptions::default().conditional_set(ExistenceCheck::NX);
    let xx = SetOptions::default().conditional_set(ExistenceCheck::XX);
    l.step(Cmd::set_options(&greeting, "other", nx), nil())
        .await?;
    l.step(Cmd::set_options(&missing, "other", xx.clone()), nil())
        .await?;
    l.step(Cmd::set_options(&greeting, "hi", xx), ok()).await?;
    l.step(Cmd::get(&greeting), bulk("hi")).await?;

    l.say("The older one-purpose commands: SETNX (1 = set), SETEX (seconds), PSETEX (ms).")?;
    l.step(Cmd::set_nx(&greeting, "again"), int(0)).await?;
    l.step(Cmd::set_nx(l.key("fresh"), "new"), int(1)).await?;
    l.step(Cmd::set_ex(&session, "token", 60), ok()).await?;
    l.step(Cmd::ttl(&session), between(30, 60)).await?;
    l.step(Cmd::pset_ex(&session, "token", 60_000), ok())
        .await?;
    l.step(Cmd::pttl(&session), between(30_000, 60_000)).await?;

    l.say("MSET / MGET: several keys in one command; a missing key reads as (nil).")?;
    let (a, bb) = (l.key("a"), l.key("b"));
    l.step(Cmd::mset(&[(&a, "1"), (&bb, "2")]), ok()).await?;
    l.step(
        Cmd::mget(&[&a, &bb, &missing]),
        array(vec![b("1"), b("2"), redis::Value::Nil]),
    )
    .await?;

    l.say("GETSET: set a new value and get the old one in one step.")?;
    l.step(Cmd::getset(&greeting, "hey"), bulk("hi")).await?;

    l.say("GETRANGE reads a slice (negative = from the end); SETRANGE overwrites at an offset.")?;
    let text = l.key("text");
    l.step(Cmd::set(&text, "Hello World"), ok()).await?;
    l.step(Cmd::getrange(&text, 0, 4), bulk("Hello")).await?;
    l.step(Cmd::getrange(&text, -5, -1), bulk("World")).await?;
    l.step(Cmd::setrange(&text, 6, "Redis"), int(11)).await?;
    l.step(Cmd::get(&text), bulk("Hello Redis")).await?;

    l.say("Bits: 'f' is 0x66 = 01100110; setting its last bit (offset 7) makes 0x67 = 'g'.")?;
    let word = l.key("foo");
    l.step(Cmd::set(&word, "foo"), ok()).await?;
    l.step(Cmd::getbit(&word, 7), int(0)).await?;
    l.step(Cmd::setbit(&word, 7, true), int(0)).await?;
    l.step(Cmd::getbit(&word, 7), int(1)).await?;
    l.step(Cmd::get(&word), bulk("goo")).await?;
    l.say("BITCOUNT counts the 1 bits: g (5) + o (6) + o (6).")?;
    l.step(Cmd::bitcount(&word), int(17)).await?;

    l.say("BITOP combines strings bit by bit into a destination key ('a' = 0x61, 'b' = 0x62).")?;
    let (x, y, dest) = (l.key("x"), l.key("y"), l.key("dest"));
    l.step(Cmd::set(&x, "a"), ok()).await?;
    l.step(Cmd::set(&y, "b"), ok()).await?;
    l.step(Cmd::bit_and(&dest, &[&x, &y]), int(1)).await?;
    l.step(Cmd::get(&dest), bulk("`")).await?;
    l.step(Cmd::bit_or(&dest, &[&x, &y]), int(1)).await?;
    l.step(Cmd::get(&dest), bulk("c")).await?;
    l.step(Cmd::bit_xor(&dest, &[&x, &y]), int(1)).await?;
    l.step(Cmd::get(&dest), bytes(b"\x03")).await?;
    l.step(Cmd::bit_not(&dest, &x), int(1)).await?;
    l.step(Cmd::get(&dest), bytes(b"\x9e")).await?;

    l.say("STRLEN counts bytes, not characters: \"你好\" is 2 characters, 6 UTF-8 bytes.")?;
    let cn = l.key("cn");
    l.step(Cmd::set(&cn, "你好"), ok()).await?;
    l.step(Cmd::strlen(&cn), int(6)).await?;
    l.step(Cmd::get(&cn), bulk("你好")).await?;

    l.say("Counters. A missing key counts from 0. The typed API's incr()/decr() send\nINCRBY/DECRBY (or INCRBYFLOAT for a float); INCR and DECR themselves are cmd(\"INCR\").")?;
    let counter = l.key("counter");
    l.step(cmd("INCR").arg(&counter).take(), int(1)).await?;
    l.step(Cmd::incr(&counter, 10), int(11)).await?;
    l.step(cmd("DECR").arg(&counter).take(), int(10)).await?;
    l.step(Cmd::decr(&counter, 3), int(7)).await?;
    let price = l.key("price");
    l.step(Cmd::incr(&price, 2.5), bulk("2.5")).await?;
    l.step(Cmd::incr(&price, 0.25), bulk("2.75")).await?;
    l.say("INCR on something that is not an integer is refused:")?;
    l.step(
        cmd("INCR").arg(&greeting).take(),
        error("ERR value is not an integer"),
    )
    .await?;

    l.say("APPEND adds to the end and answers the new length in bytes.")?;
    l.step(Cmd::append(&greeting, "!!"), int(5)).await?;
    l.step(Cmd::get(&greeting), bulk("hey!!")).await?;
    Ok(())
}
