//! `redis-ops set`: its arguments, their checks, and the run.

use std::io::{Read, Write};
use std::process::ExitCode;

use argh::FromArgs;
use common::output::Out;

use super::connection::{Connection, OnCluster};
use super::{Threads, done, execute, usage};
use crate::connect::Redis;
use crate::error::{Error, io};
use crate::kv::{self, Condition, Expiry};

/// The most bytes `set --stdin` reads: a larger value is refused before it is sent (and before
/// more than this is held in memory).
pub const MAX_VALUE_BYTES: u64 = 64 << 20;

/// store a value: SET KEY VALUE [EX s | PX ms] [NX | XX]; prints OK
#[derive(FromArgs)]
#[argh(subcommand, name = "set")]
pub struct Args {
    /// the key
    #[argh(positional)]
    pub key: String,
    /// the value (give --stdin instead for arbitrary bytes)
    #[argh(positional)]
    pub value: Option<String>,
    /// read the value from stdin, byte for byte (binary-safe; at most 64 MiB)
    #[argh(switch)]
    pub stdin: bool,
    /// expire after this many seconds (EX)
    #[argh(option)]
    pub ex: Option<u64>,
    /// expire after this many milliseconds (PX)
    #[argh(option)]
    pub px: Option<u64>,
    /// only set a key that does not exist (NX); exit 1 if it does
    #[argh(switch)]
    pub nx: bool,
    /// only set a key that exists (XX); exit 1 if it does not
    #[argh(switch)]
    pub xx: bool,
}

/// Where `set` takes its value from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// The command line's VALUE.
    Given(Vec<u8>),
    /// Standard input, byte for byte (`--stdin`).
    Stdin,
}

/// `set`, checked.
#[derive(Debug)]
pub struct Options {
    /// The server or the cluster.
    pub redis: Redis,
    /// The key.
    pub key: String,
    /// The value.
    pub value: Value,
    /// EX or PX.
    pub expiry: Option<Expiry>,
    /// NX or XX.
    pub condition: Option<Condition>,
}

impl Options {
    /// The connection flags, then the arguments: `--ex` or `--px`, `--nx` or `--xx`, a VALUE
    /// or `--stdin`.
    pub fn new(a: Args, to: &Connection) -> Result<Self, Error> {
        let redis = to.redis(OnCluster::Runs)?;
        let expiry = match (a.ex, a.px) {
            (Some(_), Some(_)) => return Err(usage("set: give --ex or --px, not both")),
            (Some(0), None) | (None, Some(0)) => {
                return Err(usage("set: the expiry must be at least 1"));
            }
            (Some(s), None) => Some(Expiry::Seconds(s)),
            (None, Some(ms)) => Some(Expiry::Millis(ms)),
            (None, None) => None,
        };
        let condition = match (a.nx, a.xx) {
            (true, true) => return Err(usage("set: give --nx or --xx, not both")),
            (true, false) => Some(Condition::IfMissing),
            (false, true) => Some(Condition::IfExists),
            (false, false) => None,
        };
        let value = match (a.value, a.stdin) {
            (Some(v), false) => Value::Given(v.into_bytes()),
            (None, true) => Value::Stdin,
            (Some(_), true) => return Err(usage("set: give a VALUE or --stdin, not both")),
            (None, false) => return Err(usage("set: give a VALUE (or --stdin)")),
        };
        Ok(Self {
            redis,
            key: a.key,
            value,
            expiry,
            condition,
        })
    }
}

/// Stores the value and prints `OK`.
pub fn run<W: Write>(args: Args, to: &Connection, out: &mut Out<W>) -> Result<ExitCode, Error> {
    let Options {
        redis,
        key,
        value,
        expiry,
        condition,
    } = Options::new(args, to)?;
    done(execute(&redis, Threads::All, async {
        let value = match value {
            Value::Given(v) => v,
            Value::Stdin => read_value(std::io::stdin().lock())?,
        };
        let mut conn = redis.conn().await?;
        kv::set(&mut conn, &key, &value, expiry, condition).await?;
        Ok(out.line(format_args!("OK"))?)
    }))
}

/// The value of `set --stdin`, at most [`MAX_VALUE_BYTES`]: no more than that (and one byte)
/// is ever read into memory.
fn read_value(input: impl Read) -> Result<Vec<u8>, Error> {
    let mut buf = Vec::new();
    input
        .take(MAX_VALUE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(io("cannot read the value from stdin"))?;
    if buf.len() as u64 > MAX_VALUE_BYTES {
        return Err(Error::Limit(format!(
            "set --stdin: the value is larger than {} MiB (the most set sends); nothing was sent",
            MAX_VALUE_BYTES >> 20
        )));
    }
    Ok(buf)
}
