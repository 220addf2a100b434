//! `redis-ops lesson`: every operation of the Redis lesson, shown and checked.
//!
//! A lesson is a list of steps. Each step is one line of code:
//!
//! ```text
//! l.step(Cmd::hset(&h, "k1", "v1"), int(1)).await?;
//! ```
//!
//! which builds the command with the redis crate's typed builder (`Cmd::hset` is what
//! `AsyncTypedCommands::hset` sends), prints it as `> HSET lesson:1a2b3c4d:h k1 v1`, runs it,
//! prints the reply as redis-cli would (`(integer) 1`) and compares it with what Redis must
//! answer. A disagreement prints `! expected ...` and ends the run with exit status 1.
//!
//! Every key is named `{lesson:<random>}:<name>` ([`Lesson::key`]) and every key under that
//! prefix is deleted after each group and at the end, also after a failure or Ctrl-C
//! ([`run`]). The braces are a Redis Cluster hash tag: only `lesson:<random>` is hashed, so
//! every key of a run lives in one hash slot, on one node, and the multi-key commands of the
//! lesson (MSET, SINTER, ZUNIONSTORE, RENAME, MULTI/EXEC...) stay valid on a cluster.
//! With `--cluster` the plain steps go through the cluster client; what a cluster connection
//! cannot carry (SCAN, WATCH, blocking pops, SUBSCRIBE) goes to a direct connection to the
//! master that serves the run's slot ([`Lesson::slot_node`]); MOVE is skipped (a cluster has
//! database 0 only).

mod gather;
mod hashes;
mod keys;
pub mod leftovers;
mod lists;
mod pipeline;
mod pubsub;
mod sets;
mod strings;
mod zsets;

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use common::output::{Out, PrintError};
use common::shutdown::Signal;
use redis::aio::ConnectionLike;

use crate::connect::Conn;
use redis::{Cmd, Pipeline, Value};

use crate::connect::Redis;
use crate::error::{Error, describe};
use crate::reply::{Expect, show_command, show_reply};

pub use gather::{drain, flatten_pairs};
pub use leftovers::delete_matching;

/// The lesson groups, in the order `all` runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// SET and its options, GET, MSET, bit operations, counters.
    Strings,
    /// HSET, HGET, HGETALL, HINCRBY, HSCAN...
    Hashes,
    /// LPUSH, LRANGE, LREM, blocking pops, iterating a long list in batches.
    Lists,
    /// SADD, set algebra (SDIFF, SINTER, SUNION), SPOP, SSCAN.
    Sets,
    /// ZADD, ranges by rank, score and name, ZINTERSTORE/ZUNIONSTORE, ZSCAN.
    Zsets,
    /// DEL, EXISTS, KEYS patterns, EXPIRE/TTL, RENAME, MOVE, TYPE, SCAN.
    Keys,
    /// MULTI/EXEC, plain pipelines, WATCH with retry.
    Pipeline,
    /// SUBSCRIBE/PUBLISH (the fm104.5 radio) and PSUBSCRIBE.
    Pubsub,
}

impl Group {
    /// Every group, in order.
    pub const ALL: [Self; 8] = [
        Self::Strings,
        Self::Hashes,
        Self::Lists,
        Self::Sets,
        Self::Zsets,
        Self::Keys,
        Self::Pipeline,
        Self::Pubsub,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Strings => "strings",
            Self::Hashes => "hashes",
            Self::Lists => "lists",
            Self::Sets => "sets",
            Self::Zsets => "zsets",
            Self::Keys => "keys",
            Self::Pipeline => "pipeline",
            Self::Pubsub => "pubsub",
        }
    }

    /// The groups a command-line name selects: one, or every one for `all`.
    pub fn parse(name: &str) -> Result<Vec<Self>, Error> {
        if name == "all" {
            return Ok(Self::ALL.to_vec());
        }
        Self::ALL
            .into_iter()
            .find(|g| g.name() == name)
            .map(|g| vec![g])
            .ok_or_else(|| Error::UnknownLesson(name.to_owned()))
    }
}

/// How to run the lessons.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Wait this long after each step (to read along, or to interrupt mid-way).
    pub pause: Duration,
}

/// What a successful run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The key prefix used, `lesson:<random>:`.
    pub prefix: String,
    /// How many commands were checked.
    pub steps: usize,
}

/// Where a transcript goes, a line at a time: an [`Out`] (stdout, or a test's buffer).
pub trait Transcript {
    /// Writes `text` and a newline.
    fn line(&mut self, text: &str) -> Result<(), PrintError>;
}

impl<W: Write> Transcript for Out<W> {
    fn line(&mut self, text: &str) -> Result<(), PrintError> {
        Out::line(self, format_args!("{text}"))
    }
}

/// Runs `groups` against `redis`, writing the transcript to `out`. Whatever happens (a reply
/// that disagrees, a lost connection, a closed `out`, `shutdown` resolving), every key under the
/// run's prefix is deleted before this returns.
pub async fn run(
    redis: &Redis,
    groups: &[Group],
    options: &Options,
    out: &mut dyn Transcript,
    shutdown: impl Future<Output = Signal>,
) -> Result<Summary, Error> {
    let prefix = format!("{{lesson:{:08x}}}:", rand::random::<u32>());
    let mut conn = redis.conn().await?;
    // Heal what interrupted runs left (their process gone), then mark this run as alive before
    // its first key, for as long as it runs.
    let swept = leftovers::sweep(redis, i64::from(redis.db() == 0)).await?;
    leftovers::mark(&mut conn, &prefix).await?;
    let heartbeat = {
        let (mut conn, prefix) = (conn.clone(), prefix.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(leftovers::MARKER_REFRESH).await;
                let _ = leftovers::mark(&mut conn, &prefix).await;
            }
        })
    };
    let mut l = Lesson {
        redis,
        conn,
        prefix: prefix.clone(),
        group: "",
        out,
        pause: options.pause,
        steps: 0,
    };
    l.say(&format!(
        "every key of this run lives under {prefix} and is deleted at the end"
    ))?;
    if swept.1 > 0 {
        l.say(&format!(
            "removed {} key(s) left by {} interrupted run(s)",
            swept.0, swept.1
        ))?;
    }

    let outcome = tokio::select! {
        r = l.run_groups(groups) => r,
        signal = shutdown => Err(Error::interrupted(signal)),
    };

    // The group future is gone (dropped mid-command if interrupted): clean up on a fresh
    // footing, whatever the outcome; say so unless the transcript's reader went away.
    heartbeat.abort();
    let mut cleaned = if outcome.is_err() {
        // After a failure the server may be frozen: one --timeout for the whole clean-up.
        let within = redis.timeout();
        match tokio::time::timeout(within, l.delete_keys()).await {
            Ok(r) => r,
            Err(_) => Err(Error::TimedOut {
                what: "deleting the run's keys".into(),
                after: within,
            }),
        }
    } else {
        l.delete_keys().await
    };
    if cleaned.is_ok() {
        let mut conn = l.conn.clone();
        let _: redis::RedisResult<i64> = redis::cmd("DEL")
            .arg(leftovers::marker(&prefix))
            .query_async(&mut conn)
            .await;
    }
    if let (Ok(n), false) = (&cleaned, matches!(outcome, Err(Error::Print(_)))) {
        cleaned = l.said_cleanup(*n);
    }
    match (outcome, cleaned) {
        (Ok(()), Ok(_)) => Ok(Summary {
            prefix,
            steps: l.steps,
        }),
        (Err(Error::Interrupted(how)), Ok(n)) => Err(Error::Interrupted(format!(
            "{how}; deleted the run's {n} key(s) under {prefix}"
        ))),
        (Ok(()), Err(e)) | (Err(e), Ok(_)) => Err(e),
        (Err(e), Err(cleanup)) => {
            tracing::debug!("the clean-up after the failure failed too: {cleanup}");
            Err(Error::KeysLeft {
                cause: Box::new(e),
                prefix,
            })
        }
    }
}

/// The state of a run: the connection, the key prefix, where the transcript goes.
pub struct Lesson<'a> {
    /// The server, for extra connections (blocking commands, another db, subscribers).
    pub redis: &'a Redis,
    /// The shared connection every plain step uses (multiplexed, or the cluster client).
    pub conn: Conn,
    prefix: String,
    group: &'static str,
    out: &'a mut dyn Transcript,
    pause: Duration,
    steps: usize,
}

impl Lesson<'_> {
    async fn run_groups(&mut self, groups: &[Group]) -> Result<(), Error> {
        for (i, &group) in groups.iter().enumerate() {
            self.group = group.name();
            self.line(&format!("\n== {} ==", group.name()))?;
            match group {
                Group::Strings => strings::run(self).await?,
                Group::Hashes => hashes::run(self).await?,
                Group::Lists => lists::run(self).await?,
                Group::Sets => sets::run(self).await?,
                Group::Zsets => zsets::run(self).await?,
                Group::Keys => keys::run(self).await?,
                Group::Pipeline => pipeline::run(self).await?,
                Group::Pubsub => pubsub::run(self).await?,
            }
            // Each group starts from an empty prefix, so KEYS and SCAN see only its keys. (The
            // last group's keys go in the final cleanup, which runs whatever happens.)
            if i + 1 < groups.len() {
                let n = self.delete_keys().await?;
                self.said_cleanup(n)?;
            }
        }
        Ok(())
    }

    /// The run's key prefix, `{lesson:<random>}:`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether the lesson runs on a Redis Cluster.
    pub fn on_cluster(&self) -> bool {
        self.redis.is_cluster()
    }

    /// The server holding the run's keys: the same server, or on a cluster the master of the
    /// run's hash slot (for commands that need one node's connection: SCAN, WATCH, BLPOP,
    /// SUBSCRIBE).
    pub async fn slot_node(&self) -> Result<Redis, Error> {
        self.redis.node_for_key(&self.prefix).await
    }

    /// The full name of the lesson key `name`: `{lesson:<random>}:name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The database MOVE sends keys to: 1, or 0 when the URL already selects 1 or more.
    pub fn other_db(&self) -> i64 {
        i64::from(self.redis.db() == 0)
    }

    /// Prints an explanation: `# text`.
    pub fn say(&mut self, text: &str) -> Result<(), Error> {
        for line in text.lines() {
            self.line(&format!("# {line}"))?;
        }
        Ok(())
    }

    fn line(&mut self, text: &str) -> Result<(), Error> {
        Ok(self.out.line(text)?)
    }

    /// Runs `cmd` on the shared connection: prints it, prints the reply, checks it.
    pub async fn step(&mut self, cmd: Cmd, expect: Expect) -> Result<Value, Error> {
        let mut conn = self.conn.clone();
        let value = self.step_on(&mut conn, cmd.clone(), expect).await?;
        self.backstop(&cmd).await?;
        Ok(value)
    }

    /// In the groups whose transcript shows no TTL, gives every key `cmd` names the expiry
    /// backstop ([`leftovers::BACKSTOP`], NX: an expiry the lesson set stays as it is), so
    /// that a run cut short leaves nothing forever.
    async fn backstop(&mut self, cmd: &Cmd) -> Result<(), Error> {
        if !matches!(self.group, "hashes" | "lists" | "sets" | "zsets") {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        leftovers::backstop(&mut conn, &self.prefix, cmd).await
    }

    /// Like [`Lesson::step`], on another connection.
    pub async fn step_on(
        &mut self,
        conn: &mut impl ConnectionLike,
        cmd: Cmd,
        expect: Expect,
    ) -> Result<Value, Error> {
        self.show(&cmd)?;
        let reply = query(conn, &cmd).await;
        self.check(&show_command(&cmd), reply, &expect).await
    }

    /// Prints `> CMD` only (the reply comes later: [`Lesson::check`]).
    pub fn show(&mut self, cmd: &Cmd) -> Result<(), Error> {
        self.line(&format!("> {}", show_command(cmd)))
    }

    /// Prints the reply to `command` and checks it. A server error is a reply (`(error) ...`,
    /// which a step may expect); a broken connection ends the run.
    pub async fn check(
        &mut self,
        command: &str,
        reply: redis::RedisResult<Value>,
        expect: &Expect,
    ) -> Result<Value, Error> {
        let reply = match reply {
            Ok(v) => Ok(v),
            Err(e) if e.code().is_some() => Err(describe(&e)),
            Err(e) => {
                return Err(Error::Command {
                    command: command.to_owned(),
                    reason: describe(&e),
                });
            }
        };
        let shown = match &reply {
            Ok(v) => show_reply(v),
            Err(text) => format!("(error) {text}"),
        };
        self.line(&shown)?;
        self.steps += 1;
        if !expect.accepts(&reply) {
            self.line(&format!("! expected {expect}"))?;
            return Err(Error::Disagreed {
                group: self.group,
                command: command.to_owned(),
                expected: expect.to_string(),
                got: shown.replace('\n', " "),
            });
        }
        if !self.pause.is_zero() {
            tokio::time::sleep(self.pause).await;
        }
        Ok(reply.unwrap_or(Value::Nil))
    }

    /// Sends a pipeline (a transaction when `pipe.atomic()` was called) in one round trip on
    /// the shared connection, printing each of its commands, then the array of replies.
    pub async fn pipeline(&mut self, pipe: &Pipeline, expect: Expect) -> Result<Value, Error> {
        let mut conn = self.conn.clone();
        self.pipeline_on(&mut conn, pipe, expect).await
    }

    /// Like [`Lesson::pipeline`], on another connection.
    pub async fn pipeline_on(
        &mut self,
        conn: &mut impl ConnectionLike,
        pipe: &Pipeline,
        expect: Expect,
    ) -> Result<Value, Error> {
        let atomic = pipe.is_transaction();
        if atomic {
            self.line("> MULTI")?;
        }
        let mut shown = Vec::new();
        for cmd in pipe.cmd_iter() {
            let text = show_command(cmd);
            self.line(&format!("> {text}"))?;
            shown.push(text);
        }
        if atomic {
            self.line("> EXEC")?;
        }
        let reply = pipe.query_async::<Value>(conn).await;
        let label = if atomic {
            "MULTI ... EXEC".to_owned()
        } else {
            shown.join("; ")
        };
        self.check(&label, reply, &expect).await
    }

    /// Prints and checks a result the crate gathered over several round trips (a SCAN-family
    /// iterator, a stream of batches), labelled like a command.
    pub async fn gathered(
        &mut self,
        label: &str,
        items: Vec<Value>,
        expect: Expect,
    ) -> Result<Value, Error> {
        self.line(&format!("> {label}"))?;
        self.check(label, Ok(Value::Array(items)), &expect).await
    }

    /// A check of something that is not a reply (a count the lesson computed): printed as a
    /// note, and a disagreement like any other.
    pub fn expect_true(&mut self, what: &str, ok: bool, detail: &str) -> Result<(), Error> {
        if ok {
            self.say(what)
        } else {
            self.line(&format!("! {what}: {detail}"))?;
            Err(Error::Disagreed {
                group: self.group,
                command: what.to_owned(),
                expected: what.to_owned(),
                got: detail.to_owned(),
            })
        }
    }

    /// Deletes every key under the prefix, in the URL's database and in [`Lesson::other_db`]
    /// (where MOVE sends one). SCAN, not KEYS: it never blocks the server for long. On a
    /// cluster, SCAN walks one node: the master of the run's slot, where all its keys are.
    async fn delete_keys(&mut self) -> Result<usize, Error> {
        let pattern = format!("{}*", self.prefix);
        let node = self.slot_node().await?;
        let mut deleted = delete_matching(&mut node.connect().await?, &pattern).await?;
        if !self.on_cluster() {
            let mut other = self.redis.connect_db(self.other_db()).await?;
            deleted += delete_matching(&mut other, &pattern).await?;
        }
        Ok(deleted)
    }

    /// Says how many keys [`Lesson::delete_keys`] deleted; answers that count.
    fn said_cleanup(&mut self, deleted: usize) -> Result<usize, Error> {
        let text = format!("cleanup: deleted {deleted} key(s) under {}", self.prefix);
        self.say(&text)?;
        Ok(deleted)
    }
}

/// Runs one command (the shared connection's response timeout bounds it).
async fn query(conn: &mut impl ConnectionLike, cmd: &Cmd) -> redis::RedisResult<Value> {
    cmd.query_async::<Value>(conn).await
}
