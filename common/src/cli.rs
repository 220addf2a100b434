//! The two ends of every binary's `main`, with the project's exit codes: [`parse`] the command
//! line, and [`finish`] with the exit code and the one-line [`report`] of an error.
//!
//! `argh::from_env` exits with status 1 on a usage error; the lessons exit 2 (bad usage), print
//! `--help` on stdout with status 0, answer `--version`, and refuse arguments that are not UTF-8
//! instead of panicking. A failure prints exactly one line on stderr, `error: <message>: <cause>:
//! <cause>`, with every URL password redacted; no panic, no backtrace.

use std::error::Error;
use std::ffi::OsString;
use std::process::{ExitCode, exit};
use std::time::Duration;

use argh::FromArgs;

use crate::exit::{Failure, USAGE};
use crate::output::is_closed;

/// What parsing decided, before anything is printed.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed<T> {
    /// Arguments to run with.
    Run(T),
    /// Print this text on stdout and exit 0 (`--help`, `--version`).
    Print(String),
    /// Print this text on stderr and exit 2.
    Usage(String),
}

/// Parses `args` (the program name first) into `T`.
pub fn parse_from<T: FromArgs>(args: &[OsString], version: &str) -> Parsed<T> {
    let mut strings = Vec::with_capacity(args.len());
    for a in args {
        match a.to_str() {
            Some(s) => strings.push(s),
            None => {
                return Parsed::Usage(usage_text(
                    &format!("argument {} is not valid UTF-8", a.to_string_lossy()),
                    &program_name(),
                    None,
                ));
            }
        }
    }
    let Some((prog, rest)) = strings.split_first() else {
        return Parsed::Usage(usage_text("no program name", "the tool", None));
    };
    let name = std::path::Path::new(prog)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(prog);
    let before_dashdash = rest.iter().take_while(|a| **a != "--");
    if before_dashdash.clone().any(|a| *a == "--version")
        && !before_dashdash
            .clone()
            .any(|a| *a == "--help" || *a == "help")
    {
        return Parsed::Print(format!("{name} {version}\n"));
    }
    // argh takes `-v -v`; accept the usual `-vv` and `-vvv` too.
    let mut expanded: Vec<&str> = Vec::with_capacity(rest.len());
    for (i, a) in rest.iter().enumerate() {
        let is_vs = a.len() > 2 && a.starts_with('-') && a[1..].bytes().all(|b| b == b'v');
        if is_vs && !rest[..i].contains(&"--") {
            expanded.extend(std::iter::repeat_n("-v", a.len() - 1));
        } else {
            expanded.push(a);
        }
    }
    match T::from_args(&[name], &expanded) {
        Ok(t) => Parsed::Run(t),
        Err(early) if early.status.is_ok() => Parsed::Print(early.output),
        Err(early) => Parsed::Usage(usage_text(&argh_message(&early.output), name, None)),
    }
}

/// argh's usage message folded into one line without a prefix of its own:
/// `Required options not provided:\n    --x` becomes `required options not provided: --x`.
fn argh_message(output: &str) -> String {
    let text = output.trim();
    let text = text.strip_prefix("error:").unwrap_or(text).trim();
    let folded = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    // `Error parsing option '--port' with value 'x': why` -> `invalid value 'x' for --port: why`
    if let Some(rest) = folded.strip_prefix("Error parsing option '")
        && let Some((option, rest)) = rest.split_once("' with value '")
        && let Some((value, why)) = rest.split_once("': ")
    {
        return format!("invalid value '{value}' for {option}: {why}");
    }
    let mut chars = folded.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => "bad usage".to_owned(),
    }
}

/// The usage error text: `error: <what>` and the line saying where the help is.
pub fn usage_text(what: &str, tool: &str, command: Option<&str>) -> String {
    format!(
        "error: {}\n{}\n",
        crate::redact::redact_all(what),
        help_hint_for(tool, command)
    )
}

/// `Run '<tool> [<command>] --help' for usage.`
fn help_hint_for(tool: &str, command: Option<&str>) -> String {
    match command {
        Some(c) => format!("Run '{tool} {c} --help' for usage."),
        None => format!("Run '{tool} --help' for usage."),
    }
}

/// The help line for this process: `Run '<tool> [<command>] --help' for usage.`, the tool's
/// name taken from the command line.
pub fn help_hint(command: Option<&str>) -> String {
    help_hint_for(&program_name(), command)
}

/// This program's name, as the user called it (without the folder).
pub fn program_name() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(std::path::Path::file_name)
        .map_or_else(
            || "the tool".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        )
}

/// Parses the process's arguments into `T`, or prints help/version (exit 0) or the usage error
/// (exit 2) and exits. Pass `env!("CARGO_PKG_VERSION")`.
pub fn parse<T: FromArgs>(version: &str) -> T {
    let args: Vec<OsString> = std::env::args_os().collect();
    match parse_from(&args, version) {
        Parsed::Run(t) => t,
        Parsed::Print(text) => {
            use std::io::Write;
            // `tool --help | head -1`: a closed stdout is not an error.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            exit(0);
        }
        Parsed::Usage(text) => {
            crate::exit::say(text.trim_end());
            exit(i32::from(USAGE));
        }
    }
}

/// The longest duration a `SECS` option takes: a year, far beyond any sensible timeout, and small
/// enough that adding it to `Instant::now()` cannot overflow.
pub const MAX_SECS: f64 = 366.0 * 24.0 * 3600.0;

/// A number of seconds as a duration: finite, 0 or more (more than 0 unless `allow_zero`), at
/// most [`MAX_SECS`].
pub fn duration_from_secs(secs: f64, allow_zero: bool) -> Result<Duration, String> {
    checked_secs(Some(secs), allow_zero, &secs.to_string())
}

/// `secs` is `None` when the text was not a number at all; `shown` is how errors quote it.
fn checked_secs(secs: Option<f64>, allow_zero: bool, shown: &str) -> Result<Duration, String> {
    match secs {
        Some(s) if s.is_finite() && (s > 0.0 || (s == 0.0 && allow_zero)) => {
            if s > MAX_SECS {
                Err(format!("{shown} seconds is more than a year"))
            } else {
                Ok(Duration::from_secs_f64(s))
            }
        }
        _ => {
            let least = if allow_zero {
                "0 or more"
            } else {
                "more than 0"
            };
            Err(format!(
                "expected a number of seconds, {least}, like 5 or 0.5, not {shown}"
            ))
        }
    }
}

fn parse_secs(text: &str, allow_zero: bool) -> Result<Duration, String> {
    checked_secs(text.trim().parse().ok(), allow_zero, &format!("'{text}'"))
}

/// Parses a `SECS` option for argh's `from_str_fn`: `5`, `0.5`, `0` (0 or more).
pub fn secs(text: &str) -> Result<Duration, String> {
    parse_secs(text, true)
}

/// Parses a `SECS` option that must be more than 0 (a timeout, say).
pub fn positive_secs(text: &str) -> Result<Duration, String> {
    parse_secs(text, false)
}

/// Exits with a usage error (status 2): `error: <message>` and the help line on stderr.
/// `message` carries no prefix of its own.
pub fn usage_error(message: &str) -> ! {
    crate::exit::say(usage_text(message, &program_name(), None).trim_end());
    exit(i32::from(USAGE))
}

/// The one-line report of an error and its chain of causes: `error: a: b: c`.
///
/// A cause whose text the message already contains is not repeated. Line breaks are folded into
/// spaces, and any URL password is replaced by `***`.
pub fn report(err: &(dyn Error + 'static)) -> String {
    let mut line = String::from("error: ");
    line.push_str(&err.to_string());
    let mut cause = err.source();
    while let Some(c) = cause {
        // An I/O cause in short words (`connection refused`), as messages put it.
        let text = match c.downcast_ref::<std::io::Error>() {
            Some(io) => crate::net::describe_io(io),
            None => c.to_string(),
        };
        if !text.is_empty() && !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = c.source();
    }
    let folded: String = line
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    crate::redact::redact_all(&folded)
}

/// Ends `main`: `Ok` exits 0; an error prints its one-line [`report`] on stderr and exits with
/// its code. A closed standard output ([`is_closed`]) is not a failure of a command whose job is
/// printing: it exits 0 and prints nothing. A usage error ([`USAGE`]) gets a second line saying
/// where the help is.
pub fn finish<E: Into<Failure>>(result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let f: Failure = e.into();
            if is_closed(f.error.as_ref()) {
                return ExitCode::SUCCESS;
            }
            let mut text = report(f.error.as_ref());
            if f.code == USAGE {
                text.push('\n');
                text.push_str(&help_hint(None));
            }
            crate::exit::say(&text);
            ExitCode::from(f.code)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;

    /// Demo tool.
    #[derive(FromArgs, Debug, PartialEq, Eq)]
    struct Demo {
        /// a port
        #[argh(option, default = "1234")]
        port: u16,
        /// more logs
        #[argh(switch, short = 'v')]
        verbose: u8,
    }

    fn run(args: &[&str]) -> Parsed<Demo> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse_from(&args, "1.2.3")
    }

    #[test]
    fn parses_and_counts_verbosity() {
        assert_eq!(
            run(&["/bin/demo", "--port", "9", "-vv"]),
            Parsed::Run(Demo {
                port: 9,
                verbose: 2
            })
        );
    }

    #[test]
    fn help_and_version_go_to_stdout() {
        let Parsed::Print(help) = run(&["demo", "--help"]) else {
            panic!("help not printed")
        };
        assert!(help.contains("Usage: demo"), "{help}");
        assert_eq!(
            run(&["/usr/bin/demo", "--version"]),
            Parsed::Print("demo 1.2.3\n".into())
        );
    }

    #[test]
    fn usage_errors_name_the_problem() {
        let Parsed::Usage(text) = run(&["demo", "--port", "x"]) else {
            panic!("not a usage error")
        };
        assert!(text.starts_with("error: "), "{text}");
        assert!(!text.starts_with("error: error"), "{text}");
        assert!(text.contains("--port"), "{text}");
        assert_eq!(text.lines().count(), 2, "{text}");
        assert_eq!(text.lines().nth(1), Some("Run 'demo --help' for usage."));
        assert_eq!(
            text.lines().next(),
            Some("error: invalid value 'x' for --port: invalid digit found in string")
        );
        let Parsed::Usage(text) = run(&["demo", "--nope"]) else {
            panic!("not a usage error")
        };
        assert!(text.contains("--nope"), "{text}");
    }

    #[test]
    fn seconds() {
        assert_eq!(secs("10"), Ok(Duration::from_secs(10)));
        assert_eq!(secs("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(secs("0"), Ok(Duration::ZERO));
        assert_eq!(positive_secs("2"), Ok(Duration::from_secs(2)));
        assert_eq!(
            positive_secs("0").unwrap_err(),
            "expected a number of seconds, more than 0, like 5 or 0.5, not '0'"
        );
        assert_eq!(
            secs("abc").unwrap_err(),
            "expected a number of seconds, 0 or more, like 5 or 0.5, not 'abc'"
        );
        assert_eq!(
            secs("1e300").unwrap_err(),
            "'1e300' seconds is more than a year"
        );
        for bad in ["", "-1", "NaN", "inf", "-0.5"] {
            assert!(secs(bad).is_err(), "{bad}");
        }
        assert_eq!(
            duration_from_secs(-1.0, true).unwrap_err(),
            "expected a number of seconds, 0 or more, like 5 or 0.5, not -1"
        );
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_is_a_usage_error() {
        use std::os::unix::ffi::OsStringExt;
        let args = vec![OsString::from("demo"), OsString::from_vec(vec![0xff, 0xfe])];
        assert!(matches!(
            parse_from::<Demo>(&args, "1"),
            Parsed::Usage(t) if t.contains("not valid UTF-8")
        ));
    }

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);
    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn Error + 'static))
        }
    }

    #[test]
    fn chain_is_one_line() {
        let e = Layer(
            "cannot connect to redis://:secret@h:6379/0",
            Some(Box::new(Layer(
                "connection refused",
                Some(Box::new(Layer("os error\n111", None))),
            ))),
        );
        assert_eq!(
            report(&e),
            "error: cannot connect to redis://:***@h:6379/0: connection refused: os error 111"
        );
    }

    #[test]
    fn repeated_cause_is_not_printed_twice() {
        let e = Layer(
            "read failed: timed out",
            Some(Box::new(Layer("timed out", None))),
        );
        assert_eq!(report(&e), "error: read failed: timed out");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read the poem")]
    struct Read(#[source] std::io::Error);

    #[test]
    fn an_io_cause_is_in_short_words_and_not_repeated() {
        let e = crate::net::BindError {
            addr: "127.0.0.1:1".parse().unwrap(),
            source: std::io::Error::from_raw_os_error(98),
        };
        assert_eq!(
            report(&e),
            "error: cannot listen on 127.0.0.1:1: address already in use"
        );
        assert_eq!(
            report(&Read(std::io::Error::from_raw_os_error(111))),
            "error: cannot read the poem: connection refused"
        );
    }
}
