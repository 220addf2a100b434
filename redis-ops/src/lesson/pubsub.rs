//! Publish/subscribe: the course's radio station "fm104.5", and pattern subscriptions.

use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::PubSub;
use redis::{Cmd, Msg, Value, cmd};

use super::Lesson;
use crate::error::{Error, describe};
use crate::reply::{array, b, int};

const WAIT: Duration = Duration::from_secs(5);

pub(super) async fn run(l: &mut Lesson<'_>) -> Result<(), Error> {
    // Channels are not keys, but a unique name keeps parallel runs apart all the same.
    let fm1045 = l.key("fm104.5");
    let fm986 = l.key("fm98.6");

    l.say("A subscriber listens on a channel; a publisher sends to it. Nothing is stored: a\nmessage reaches whoever is subscribed at that moment, or nobody. A subscribed\nconnection can only (un)subscribe, so the subscriber has a connection of its own.")?;
    if l.on_cluster() {
        l.say("On a cluster, PUBLISH is routed by the channel's slot and every node passes\nthe message on to its own subscribers; PUBLISH counts the subscribers of the node\nthat received it. So the listeners connect to the node serving this run's slot.")?;
    }
    let node = l.slot_node().await?;
    let mut radio = node.pubsub().await?;
    subscribe(l, &mut radio, "SUBSCRIBE", &fm1045).await?;

    l.say("The station publishes; PUBLISH answers how many subscribers got the message.")?;
    let songs = ["song 1", "song 2", "news at nine"];
    for song in songs {
        l.step(Cmd::publish(&fm1045, song), int(1)).await?;
    }
    l.say("The subscriber receives them in the order they were published:")?;
    {
        let mut messages = radio.on_message();
        for song in songs {
            let msg = next(&mut messages, &fm1045).await?;
            let shown = Value::Array(vec![b("message"), msg_channel(&msg), msg_payload(&msg)]);
            l.check(
                "(message)",
                Ok(shown),
                &array(vec![b("message"), b(&fm1045), b(song)]),
            )
            .await?;
        }
    }

    l.say("PSUBSCRIBE takes a pattern: a second listener tunes in to every fm station.")?;
    let pattern = l.key("fm*");
    let mut scanner = node.pubsub().await?;
    subscribe(l, &mut scanner, "PSUBSCRIBE", &pattern).await?;
    l.say("fm104.5 now has two listeners (one by name, one by pattern), fm98.6 one.")?;
    l.step(Cmd::publish(&fm1045, "song 4"), int(2)).await?;
    l.step(Cmd::publish(&fm986, "jazz"), int(1)).await?;
    l.say("Pattern messages also carry the pattern that matched:")?;
    {
        let mut messages = scanner.on_message();
        for (channel, payload) in [(&fm1045, "song 4"), (&fm986, "jazz")] {
            let msg = next(&mut messages, channel).await?;
            let pattern_seen = msg
                .get_pattern::<Vec<u8>>()
                .map_or(Value::Nil, Value::BulkString);
            let shown = Value::Array(vec![
                b("pmessage"),
                pattern_seen,
                msg_channel(&msg),
                msg_payload(&msg),
            ]);
            l.check(
                "(pmessage)",
                Ok(shown),
                &array(vec![b("pmessage"), b(&pattern), b(channel), b(payload)]),
            )
            .await?;
        }
    }
    let msg = next(&mut radio.on_message(), &fm1045).await?;
    l.check(
        "(message)",
        Ok(Value::Array(vec![
            b("message"),
            msg_channel(&msg),
            msg_payload(&msg),
        ])),
        &array(vec![b("message"), b(&fm1045), b("song 4")]),
    )
    .await?;

    l.say("After UNSUBSCRIBE nobody listens by name: PUBLISH reaches only the pattern listener.")?;
    radio
        .unsubscribe(&fm1045)
        .await
        .map_err(|e| failed("UNSUBSCRIBE", &fm1045, &e))?;
    l.show(&cmd("UNSUBSCRIBE").arg(&fm1045).take())?;
    l.say("(unsubscribed)")?;
    l.step(Cmd::publish(&fm1045, "anyone?"), int(1)).await?;
    Ok(())
}

/// (P)SUBSCRIBE on a subscriber connection; returns once the server confirmed.
async fn subscribe(
    l: &mut Lesson<'_>,
    conn: &mut PubSub,
    verb: &str,
    name: &str,
) -> Result<(), Error> {
    l.show(&cmd(verb).arg(name).take())?;
    let done = if verb == "PSUBSCRIBE" {
        tokio::time::timeout(WAIT, conn.psubscribe(name)).await
    } else {
        tokio::time::timeout(WAIT, conn.subscribe(name)).await
    };
    match done {
        Ok(Ok(())) => l.say("(subscribed: the server confirmed)"),
        Ok(Err(e)) => Err(failed(verb, name, &e)),
        Err(_) => Err(Error::TimedOut {
            what: format!("{verb} {name}"),
            after: WAIT,
        }),
    }
}

async fn next(
    messages: &mut (impl futures_util::Stream<Item = Msg> + Unpin),
    channel: &str,
) -> Result<Msg, Error> {
    match tokio::time::timeout(WAIT, messages.next()).await {
        Ok(Some(msg)) => Ok(msg),
        Ok(None) => Err(Error::Command {
            command: format!("(waiting for a message on {channel})"),
            reason: "the subscriber connection closed".into(),
        }),
        Err(_) => Err(Error::TimedOut {
            what: format!("a message on {channel}"),
            after: WAIT,
        }),
    }
}

fn msg_channel(msg: &Msg) -> Value {
    msg.get_channel::<Vec<u8>>()
        .map_or(Value::Nil, Value::BulkString)
}

fn msg_payload(msg: &Msg) -> Value {
    Value::BulkString(msg.get_payload_bytes().to_vec())
}

fn failed(verb: &str, name: &str, e: &redis::RedisError) -> Error {
    Error::Command {
        command: format!("{verb} {name}"),
        reason: describe(e),
    }
}
