//! Running a checked command: the runtime, the signal handlers, the library call, and what is
//! printed (through [`Out`]: a closed stdout ends a printing command quietly).

use std::future::Future;
use std::io::{Read, Write};
use std::process::ExitCode;

use common::exit::say;
use common::output::Out;

use super::validate::{BenchFormat, Job, MAX_VALUE_BYTES, Options, Value};
use crate::connect::Redis;
use crate::error::{Error, io};
use crate::pubsub::Event;
use crate::{bench, kv, lesson, pool, pubsub};

/// Runs `options`, printing on `out`. `Ok` carries the exit code of a run that already said
/// what it had to (`get` of a missing key: `(nil)` on stderr, exit 1).
pub fn execute<W: Write>(options: Options, out: &mut Out<W>) -> Result<ExitCode, Error> {
    // rustls on ring for the redis crate's rediss:// and the raw links of bench and ping.
    common::tls::install_crypto_provider();
    if options.insecure {
        say(common::tls::INSECURE_WARNING);
    }
    // bench runs like redis-benchmark: every connection on one thread; ping's checks are a few
    // exchanges each.
    let threads = match options.job {
        Job::Bench { .. } | Job::Ping { .. } => 1,
        _ => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
    };
    if let Job::Bench { options, .. } = &options.job {
        // -c connections, and a few more for the set-up and the clean-up.
        let wanted = options.clients as u64 + 64;
        let limit = common::limits::raise_fd_limit();
        if limit < wanted {
            return Err(Error::Limit(format!(
                "bench: -c {} needs about {wanted} open files; the limit is {limit} (ulimit -n)",
                options.clients
            )));
        }
    }
    let runtime = common::runtime::build(threads.min(common::runtime::MAX_THREADS))
        .map_err(io("cannot start the async runtime"))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, job(options, out))
}

async fn job<W: Write>(options: Options, out: &mut Out<W>) -> Result<ExitCode, Error> {
    let Options {
        redis, job, quiet, ..
    } = options;
    tracing::debug!(
        default = crate::connect::DEFAULT_URL,
        "connecting to {}",
        common::redact::Redacted(redis.url())
    );
    match job {
        Job::Set {
            key,
            value,
            expiry,
            condition,
        } => {
            let value = match value {
                Value::Given(v) => v,
                Value::Stdin => read_value(std::io::stdin().lock())?,
            };
            let mut conn = redis.conn().await?;
            kv::set(&mut conn, &key, &value, expiry, condition).await?;
            out.line(format_args!("OK"))?;
        }
        Job::Get { key, terminal } => {
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
        }
        Job::Incr { key, by } => {
            let mut conn = redis.conn().await?;
            let n = kv::incr(&mut conn, &key, by).await?;
            out.line(format_args!("{n}"))?;
        }
        Job::Pool(options) => {
            match pool::run(&redis, options, shutdown()?).await? {
                pool::Ended::Measured(report) => out.line(format_args!("{report}"))?,
                pool::Ended::Interrupted(so_far, error) => {
                    // The figures are printed if stdout still takes them; the run ends with
                    // the interruption (exit 130) either way.
                    match out.line(format_args!("{so_far}")) {
                        Ok(()) | Err(common::output::PrintError::Closed(_)) => {}
                        Err(e) => return Err(e.into()),
                    }
                    return Err(error);
                }
            }
        }
        Job::Lesson {
            name,
            groups,
            options,
        } => {
            let summary = lesson::run(&redis, &groups, &options, out, shutdown()?).await?;
            out.line(format_args!(
                "\nlesson {name}: {} replies checked, all as expected",
                summary.steps
            ))?;
        }
        Job::Publish { channel, message } => {
            // A producer: the message is sent whatever happens to stdout; a reader that went
            // away only misses the count.
            let n = pubsub::publish(&redis, &channel, message.as_bytes()).await?;
            match out.line(format_args!("(integer) {n}")) {
                Ok(()) | Err(common::output::PrintError::Closed(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Job::Subscribe { listen, retry_for } => {
            let names = listen.channels.join(", ");
            let notify = move |event: Event| match event {
                Event::Subscribed if !quiet => say(&format!("subscribed to {names}")),
                Event::Lost(why) => say(&format!("connection lost ({why}); reconnecting")),
                Event::Resubscribed { attempts, down } => say(&format!(
                    "resubscribed to {names} after {} ({attempts} attempt(s)); messages published meanwhile were missed",
                    common::duration::duration(down)
                )),
                Event::Subscribed => {}
            };
            pubsub::subscribe(&redis, &listen, out, notify, retry_for, shutdown()?).await?;
        }
        Job::Bench { options, format } => bench(&redis, &options, format, out).await?,
        Job::Ping {
            targets,
            probe,
            json,
        } => return ping(&targets, probe, json, out).await,
    }
    Ok(ExitCode::SUCCESS)
}

async fn bench<W: Write>(
    redis: &Redis,
    options: &bench::BenchOptions,
    format: BenchFormat,
    out: &mut Out<W>,
) -> Result<(), Error> {
    let measured = bench::run(redis, options, shutdown()?).await?;
    let reports = measured.reports;
    match format {
        BenchFormat::Json => out.line(format_args!("{}", bench::json(&reports)))?,
        BenchFormat::Quiet => {
            for r in &reports {
                out.line(format_args!("{}", r.quiet_line()))?;
            }
        }
        BenchFormat::Long => {
            for r in &reports {
                out.line(format_args!("{}\n", r.long(options)))?;
            }
        }
    }
    for r in reports.iter().filter(|r| r.errors > 0) {
        say(&format!(
            "{}: {} request(s) failed, {} reconnect(s); first: {}",
            r.test.name().to_ascii_uppercase(),
            r.errors,
            r.reconnects,
            r.first_error.as_deref().unwrap_or("?")
        ));
    }
    match measured.interrupted {
        Some(signal) => Err(Error::Interrupted(format!(
            " ({}) after {} test(s); the figures above are what was measured so far; the run's keys are deleted",
            signal_name(signal),
            reports.len()
        ))),
        None => Ok(()),
    }
}

fn signal_name(signal: common::shutdown::Signal) -> &'static str {
    match signal {
        common::shutdown::Signal::Interrupt => "SIGINT",
        common::shutdown::Signal::Terminate => "SIGTERM",
    }
}

/// `ping`: a line per target, ok on stdout, failures as `error: ...` on stderr (or JSON objects
/// on stdout); exit 1 if any failed, 130 if a signal ended the waiting. Its job is the check:
/// a closed stdout does not change the exit code.
async fn ping<W: Write>(
    targets: &[crate::ping::Target],
    probe: common::probe::Probe,
    json: bool,
    out: &mut Out<W>,
) -> Result<ExitCode, Error> {
    let outcomes = crate::ping::run(targets, probe, shutdown()?).await;
    let mut printing = Ok(());
    for o in &outcomes {
        if json {
            printing = printing.and_then(|()| out.line(format_args!("{}", o.json())));
        } else if o.ok() {
            printing = printing.and_then(|()| out.line(format_args!("{}", o.line())));
        } else {
            say(&format!("error: {}", o.line()));
        }
    }
    match printing {
        Ok(()) | Err(common::output::PrintError::Closed(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(if outcomes.iter().any(|o| o.interrupted) {
        ExitCode::from(common::exit::INTERRUPTED)
    } else if outcomes.iter().all(common::probe::Outcome::ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(common::exit::FAILURE)
    })
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

fn shutdown() -> Result<impl Future<Output = common::shutdown::Signal>, Error> {
    common::shutdown::install().map_err(io("cannot install the signal handlers"))
}
