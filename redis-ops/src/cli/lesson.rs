//! `redis-ops lesson`: its arguments, their checks, and the run.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use argh::FromArgs;
use common::output::Out;

use super::connection::{Connection, OnCluster};
use super::{Threads, done, execute, shutdown, usage};
use crate::connect::Redis;
use crate::error::Error;
use crate::lesson::{self, Group};

/// The most milliseconds `lesson --pause` takes.
pub const MAX_PAUSE_MS: u64 = 5000;

/// run and check every operation of a lesson group: strings, hashes, lists, sets, zsets, keys, pipeline, pubsub or all
#[derive(FromArgs)]
#[argh(subcommand, name = "lesson")]
pub struct Args {
    /// the group: strings, hashes, lists, sets, zsets, keys, pipeline, pubsub or all
    #[argh(positional)]
    pub group: String,
    /// wait this many milliseconds after each step, to read along (at most 5000)
    #[argh(option, default = "0")]
    pub pause: u64,
}

/// `lesson`, checked.
#[derive(Debug)]
pub struct Options {
    /// The server or the cluster.
    pub redis: Redis,
    /// The name given (`all`, `strings`...).
    pub name: String,
    /// The groups it selects.
    pub groups: Vec<Group>,
    /// `--pause`.
    pub run: lesson::Options,
}

impl Options {
    /// The connection flags, the group's name, then `--pause`.
    pub fn new(a: Args, to: &Connection) -> Result<Self, Error> {
        let redis = to.redis(OnCluster::Runs)?;
        let groups = Group::parse(&a.group)?;
        if a.pause > MAX_PAUSE_MS {
            return Err(usage(&format!(
                "lesson: --pause is at most {MAX_PAUSE_MS} ms"
            )));
        }
        Ok(Self {
            redis,
            name: a.group,
            groups,
            run: lesson::Options {
                pause: Duration::from_millis(a.pause),
            },
        })
    }
}

/// Runs the groups, printing the transcript, then the count of replies checked.
pub fn run<W: Write>(args: Args, to: &Connection, out: &mut Out<W>) -> Result<ExitCode, Error> {
    let o = Options::new(args, to)?;
    done(execute(&o.redis, Threads::All, async {
        let summary = lesson::run(&o.redis, &o.groups, &o.run, out, shutdown()?).await?;
        Ok(out.line(format_args!(
            "\nlesson {}: {} replies checked, all as expected",
            o.name, summary.steps
        ))?)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::cli::tests::parse;

    #[test]
    fn the_pause_is_bounded() {
        let (to, Command::Lesson(a)) = parse(&["lesson", "all", "--pause", "5001"]).unwrap() else {
            panic!("not lesson")
        };
        assert_eq!(
            Options::new(a, &to).unwrap_err().to_string(),
            "lesson: --pause is at most 5000 ms"
        );
    }
}
