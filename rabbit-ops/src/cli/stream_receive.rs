//! `stream-receive`: its arguments, their checks, and the run (stream tutorial 1's consumer,
//! [`crate::streams::hello_world::receive`]), with `--offset` to start elsewhere than the first
//! message.

use std::io::Write;
use std::time::Duration;

use argh::{FromArgs, SubCommand};
use common::cli::positive_secs;
use common::output::Out;
use rabbitmq_stream_client::types::OffsetSpecification;

use super::consumer::limits;
use super::global::Global;
use super::streams::{endpoint, name};
use super::values::positive;
use crate::consume::Limits;
use crate::error::Error;
use crate::streams::consume::Interrupt;
use crate::streams::{Endpoint, block_on, hello_world};

/// Stream tutorial 1: print the messages of the stream hello-rust-stream, each with its offset,
/// from the first one; runs until Ctrl-C, or --count N messages (exit 0), or --timeout SECS
/// without one (exit 1).
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "stream-receive",
    example = "Every message, then wait for more:\n$ rabbit-ops stream-receive",
    example = "Only what is published from now on; the last chunk; from offset 42; from a time:\n$ rabbit-ops stream-receive --offset next\n$ rabbit-ops stream-receive --offset last\n$ rabbit-ops stream-receive --offset 42\n$ rabbit-ops stream-receive --offset 2026-11-30T12:00:00Z",
    note = "Differs from the official receive.rs: each message is one line, 'Got message: <body> with offset: <n>' (receive.rs prints a debug dump, Some(\"...\")); it runs until Ctrl-C (receive.rs until Enter). --offset: first (the default), last (the last chunk written), next (new messages only), a number (that offset), or a time: seconds since 1970 with a leading @ (@1795000000), or an RFC 3339 UTC time (2026-11-30T12:00:00Z), messages stored from then on. The broker: as for stream-send."
)]
pub struct Args {
    /// stream (default hello-rust-stream)
    #[argh(option, default = "hello_world::STREAM.to_owned()")]
    stream: String,
    /// where to start: first, last, next, an offset, or a time (default first)
    #[argh(option, default = "String::from(\"first\")")]
    offset: String,
    /// exit 0 after N messages
    #[argh(option, from_str_fn(positive))]
    count: Option<u64>,
    /// exit 1 when no message arrives for SECS seconds
    #[argh(option, from_str_fn(positive_secs))]
    timeout: Option<Duration>,
}

/// What to read, and where, checked.
#[derive(Debug)]
pub struct Options {
    /// The broker.
    pub endpoint: Endpoint,
    /// The stream.
    pub stream: String,
    /// Where to start.
    pub offset: OffsetSpecification,
    /// `--count` and `--timeout`.
    pub limits: Limits,
}

/// The options, checked, and the broker of the flags before the command (one stream URL).
pub fn check(args: Args, global: &Global) -> Result<Options, Error> {
    let command = Args::COMMAND.name;
    Ok(Options {
        stream: name(command, "--stream", args.stream)?,
        offset: offset(&args.offset).map_err(|what| Error::usage(command, what))?,
        limits: limits(args.count, args.timeout),
        endpoint: endpoint(command, global)?,
    })
}

/// `--offset`: `first`, `last`, `next`, an offset, `@<seconds since 1970>` or an RFC 3339 UTC
/// time (`2026-11-30T12:00:00Z`).
pub fn offset(text: &str) -> Result<OffsetSpecification, String> {
    let bad = || {
        format!(
            "--offset must be first, last, next, an offset (0, 42...) or a time (@1795000000, \
             2026-11-30T12:00:00Z), not '{text}'"
        )
    };
    Ok(match text {
        "first" => OffsetSpecification::First,
        "last" => OffsetSpecification::Last,
        "next" => OffsetSpecification::Next,
        t if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
            OffsetSpecification::Offset(t.parse().map_err(|_| bad())?)
        }
        t => match t.strip_prefix('@') {
            Some(secs) if !secs.is_empty() && secs.bytes().all(|b| b.is_ascii_digit()) => {
                let secs: i64 = secs.parse().map_err(|_| bad())?;
                OffsetSpecification::Timestamp(secs.checked_mul(1000).ok_or_else(bad)?)
            }
            Some(_) => return Err(bad()),
            None => OffsetSpecification::Timestamp(rfc3339_millis(t).ok_or_else(bad)?),
        },
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` as milliseconds since 1970 (UTC only, years 1970 to 9999).
fn rfc3339_millis(text: &str) -> Option<i64> {
    let utc = text.strip_suffix('Z').or_else(|| text.strip_suffix('z'))?;
    let (date, time) = utc.split_once(['T', 't', ' '])?;
    let num = |s: &str, len: usize| -> Option<i64> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let mut d = date.split('-');
    let (y, mo, da) = (num(d.next()?, 4)?, num(d.next()?, 2)?, num(d.next()?, 2)?);
    let (time, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut tt = time.split(':');
    let (h, mi, s) = (
        num(tt.next()?, 2)?,
        num(tt.next()?, 2)?,
        num(tt.next()?, 2)?,
    );
    if d.next().is_some() || tt.next().is_some() || y < 1970 {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&da) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let millis = if frac.is_empty() {
        0
    } else {
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        format!("{frac:0<3}")[..3].parse::<i64>().ok()?
    };
    // Days since 1970-01-01 (the civil-from-days inverse, proleptic Gregorian).
    let (yy, mm) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = yy / 400;
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + da - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + millis)
}

/// Prints the messages until the limits or Ctrl-C.
pub fn run<W: Write>(options: Options, out: &mut Out<W>) -> Result<(), Error> {
    block_on(async || {
        let mut interrupt = Interrupt::install()?;
        hello_world::receive(
            &options.endpoint,
            &options.stream,
            options.offset,
            options.limits,
            &mut interrupt,
            out,
        )
        .await
        .map(drop)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert!(matches!(offset("first"), Ok(OffsetSpecification::First)));
        assert!(matches!(offset("last"), Ok(OffsetSpecification::Last)));
        assert!(matches!(offset("next"), Ok(OffsetSpecification::Next)));
        assert!(matches!(offset("42"), Ok(OffsetSpecification::Offset(42))));
        assert!(matches!(
            offset("@1795000000"),
            Ok(OffsetSpecification::Timestamp(1_795_000_000_000))
        ));
        assert!(matches!(
            offset("1970-01-02T00:00:01.5Z"),
            Ok(OffsetSpecification::Timestamp(86_401_500))
        ));
        assert!(matches!(
            offset("2026-11-30T12:00:00Z"),
            Ok(OffsetSpecification::Timestamp(1_796_040_000_000))
        ));
        for bad in [
            "",
            "-1",
            "@",
            "@x",
            "18446744073709551616",
            "2026-13-01T00:00:00Z",
            "2026-11-30T12:00:00",
            "tomorrow",
        ] {
            assert_eq!(
                offset(bad).unwrap_err(),
                format!(
                    "--offset must be first, last, next, an offset (0, 42...) or a time \
                     (@1795000000, 2026-11-30T12:00:00Z), not '{bad}'"
                ),
                "{bad}"
            );
        }
    }
}
