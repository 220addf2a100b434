//! Runs a checked command: the one place that maps a [`Job`] to the library function that does
//! it, with the Ctrl-C handler for the commands that run until stopped.

use std::io::Write;

use common::output::Out;

use crate::broker::Broker;
use crate::consume::{Consuming, Ended, Limits};
use crate::error::Error;
use crate::publish::Messages;
use crate::stop::Stop;
use crate::{bench, confirms, hello, logs, ping, rpc, work};

use super::args::Args;
use super::validate::{Job, Options, Source, validate};

/// Runs a command; `out` gets the program's output lines. Usage errors come before any
/// connection attempt.
pub fn run<W: Write>(args: Args, out: &mut Out<W>) -> Result<(), Error> {
    let args = match super::streams::dispatch(args, out) {
        Ok(done) => return done,
        Err(args) => *args,
    };
    let Options { broker, job } = validate(args)?;
    execute(&broker, job, out)
}

/// Runs a checked command against `broker`.
pub fn execute<W: Write>(b: &Broker, job: Job, out: &mut Out<W>) -> Result<(), Error> {
    match job {
        Job::Send {
            queue,
            generation,
            message,
        } => hello::send(b, &queue, generation, &message, out),
        Job::Receive {
            queue,
            generation,
            limits,
        } => until_stopped(b, limits, |run| {
            hello::receive(run, &queue, generation, out)
        }),
        Job::NewTask {
            queue,
            generation,
            publish,
            messages,
        } => work::new_task(b, &queue, generation, publish, source(messages), out).map(drop),
        Job::Worker {
            queue,
            generation,
            dot,
            limits,
        } => until_stopped(b, limits, |run| {
            work::worker(run, &queue, generation, dot, out)
        }),
        Job::Emit {
            kind,
            exchange,
            envelope,
            publish,
            messages,
        } => {
            let messages = source(messages);
            logs::emit(b, kind, &exchange, &envelope, publish, messages, out).map(drop)
        }
        Job::ReceiveLogs {
            kind,
            exchange,
            bindings,
            limits,
        } => until_stopped(b, limits, |run| {
            logs::receive(run, kind, &exchange, &bindings, out)
        }),
        Job::RpcServer {
            queue,
            generation,
            limits,
        } => until_stopped(b, limits, |run| rpc::server(run, &queue, generation, out)),
        Job::RpcClient {
            queue,
            n,
            concurrency,
            timeout,
        } => {
            let stop = Stop::on_signal()?;
            rpc::client(b, &queue, &n, concurrency, timeout, &stop, out).map(drop)
        }
        Job::PublisherConfirms {
            messages,
            queue,
            timeout,
        } => confirms::run(b, messages, queue.as_deref(), timeout, out).map(drop),
        Job::Bench(config) => bench::run(b, &config, out).map(drop),
        Job::Ping(options) => ping::run(&options, out),
    }
}

/// A consuming command: runs `consumer` with `limits` until they are reached or Ctrl-C.
fn until_stopped(
    broker: &Broker,
    limits: Limits,
    consumer: impl FnOnce(Consuming<'_>) -> Result<Ended, Error>,
) -> Result<(), Error> {
    let stop = Stop::on_signal()?;
    consumer(Consuming {
        broker,
        limits,
        stop: &stop,
    })
    .map(drop)
}

fn source(messages: Source) -> Messages {
    match messages {
        Source::Words(text) => Messages::one(text),
        Source::Stdin => Messages::stdin(),
    }
}
