//! `redis-ops get`: its argument, and the run.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use argh::FromArgs;
use common::exit::say;
use common::output::Out;

use super::connection::{Connection, OnCluster};
use super::{Threads, execute};
use crate::error::Error;
use crate::kv;

/// print a value, byte for byte; (nil) on stderr and exit 1 when the key does not exist
#[derive(FromArgs)]
#[argh(subcommand, name = "get")]
pub struct Args {
    /// the key
    #[argh(positional)]
    pub key: String,
}

/// Prints the value under the key, byte for byte (and a newline when stdout is a terminal);
/// `(nil)` on stderr and exit 1 when there is none.
pub fn run<W: Write>(args: Args, to: &Connection, out: &mut Out<W>) -> Result<ExitCode, Error> {
    let Args { key } = args;
    let redis = to.redis(OnCluster::Runs)?;
    let terminal = std::io::stdout().is_terminal();
    execute(&redis, Threads::All, async {
        let mut conn = redis.conn().await?;
        let Some(value) = kv::get(&mut conn, &key).await? else {
            say("(nil)");
            return Ok(ExitCode::from(common::exit::FAILURE));
        };
        out.bytes(&value)?;
        if terminal {
            out.bytes(b"\n")?;
        }
        out.flush()?;
        Ok(ExitCode::SUCCESS)
    })
}
