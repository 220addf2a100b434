//! Single values that several commands read the same way: counts above 0, milliseconds, upper
//! bounds (named in the error), `--classic` and `--quorum`, and header names.

use std::time::Duration;

use crate::error::Error;
use crate::queues::Generation;

/// The most messages `bench` and `publisher-confirms` send (`bench` keeps a flag per message).
pub const MAX_MESSAGES: u64 = 100_000_000;

/// Parses a positive count.
pub fn positive(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a whole number above 0, not '{s}'")),
    }
}

/// Parses milliseconds (0 allowed).
pub fn millis(s: &str) -> Result<Duration, String> {
    s.parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| format!("expected whole milliseconds, like 1000, not '{s}'"))
}

/// `n` if it is at most `max`, else a usage error of `command` naming `option`.
pub fn at_most<T: TryFrom<u64>>(
    command: &'static str,
    option: &str,
    n: u64,
    max: u64,
) -> Result<T, Error> {
    match T::try_from(n) {
        Ok(v) if n <= max => Ok(v),
        _ => Err(Error::usage(
            command,
            format!("{option} must be at most {max}, not {n}"),
        )),
    }
}

/// `--classic`: the tutorials' queues as declared before 2026.
pub fn generation(classic: bool) -> Generation {
    if classic {
        Generation::Classic
    } else {
        Generation::Quorum
    }
}

/// `--quorum` (the default, kept for old scripts) and `--classic` exclude each other.
pub fn task_generation(
    command: &'static str,
    quorum: bool,
    classic: bool,
) -> Result<Generation, Error> {
    if quorum && classic {
        return Err(Error::usage(
            command,
            "--quorum and --classic exclude each other: pick one (quorum is the default)",
        ));
    }
    Ok(generation(classic))
}

/// Headers given as `KEY=VALUE`: none may take a name the broker keeps for itself (`x-...`).
pub fn check_header_names(
    command: &'static str,
    headers: &[(String, String)],
) -> Result<(), Error> {
    match headers.iter().find(|(k, _)| k.starts_with("x-")) {
        Some((k, _)) => Err(Error::usage(
            command,
            format!(
                "header '{k}': names starting with x- are the broker's (use --match for x-match)"
            ),
        )),
        None => Ok(()),
    }
}
