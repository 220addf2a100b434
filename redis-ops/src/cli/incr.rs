//! `redis-ops incr`: its arguments, and the run.

use std::io::Write;
use std::process::ExitCode;

use argh::FromArgs;
use common::output::Out;

use super::connection::{Connection, OnCluster};
use super::{Threads, done, execute};
use crate::error::Error;
use crate::kv;

/// add to an integer (INCRBY) and print the new value
#[derive(FromArgs)]
#[argh(subcommand, name = "incr")]
pub struct Args {
    /// the key
    #[argh(positional)]
    pub key: String,
    /// how much to add (default 1; negative subtracts)
    #[argh(option, default = "1")]
    pub by: i64,
}

/// Adds `--by` to the integer under the key and prints the new value.
pub fn run<W: Write>(args: Args, to: &Connection, out: &mut Out<W>) -> Result<ExitCode, Error> {
    let Args { key, by } = args;
    let redis = to.redis(OnCluster::Runs)?;
    done(execute(&redis, Threads::All, async {
        let mut conn = redis.conn().await?;
        let n = kv::incr(&mut conn, &key, by).await?;
        Ok(out.line(format_args!("{n}"))?)
    }))
}
