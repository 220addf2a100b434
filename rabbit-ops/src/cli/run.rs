//! Runs a checked command: the one place that maps a [`Job`] to the library function that does
//! it, with the Ctrl-C handler for the commands that run until stopped.

use std::io::Write;

use common::output::Out;

use crate::broker::Broker;
use crate::consume::{Consuming, Limits};
use crate::error::Error;
use crate::publish::Messages;
use crate::stop::Stop;
use crate::{bench, confirms, hello, logs, ping, rpc, work};

use super::args::Args;
use super::validate::{Job, Options, Source, validate};

/// Runs a command; `out` gets the program's output lines. Usage errors come before any
/// connection attempt.
pub fn run<W: Write>(args: Args, out: &mut Out<W>) -> Result<(), Error> {
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
        } => {
            let stop = Stop::on_signal()?;
            hello::receive(consuming(b, limits, &stop), &queue, generation, out).map(drop)
        }
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
        } => {
            let stop = Stop::on_signal()?;
            work::worker(consuming(b, limits, &stop), &queue, generation, dot, out).map(drop)
        }
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
        } => {
            let stop = Stop::on_signal()?;
            logs::receive(consuming(b, limits, &stop), kind, &exchange, &bindings, out).map(drop)
        }
        Job::RpcServer {
            queue,
            generation,
            limits,
        } => {
            let stop = Stop::on_signal()?;
            rpc::server(consuming(b, limits, &stop), &queue, generation, out).map(drop)
        }
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

fn consuming<'a>(broker: &'a Broker, limits: Limits, stop: &'a Stop) -> Consuming<'a> {
    Consuming {
        broker,
        limits,
        stop,
    }
}

fn source(messages: Source) -> Messages {
    match messages {
        Source::Words(text) => Messages::one(text),
        Source::Stdin => Messages::stdin(),
    }
}
