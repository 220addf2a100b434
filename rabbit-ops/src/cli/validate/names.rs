//! AMQP's names are short strings: a queue, exchange, routing or binding key over 255 bytes on
//! the command line is a usage error, found before connecting.

use argh::SubCommand;

use super::super::args::{self as a, Command};
use super::Job;
use crate::error::Error;

/// AMQP's names (queue, exchange, routing and binding keys) are short strings: at most 255 bytes.
pub const MAX_NAME: usize = 255;

/// The subcommand's name, for the help line of a usage error.
pub(super) fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Send(_) => a::Send::COMMAND.name,
        Command::Receive(_) => a::Receive::COMMAND.name,
        Command::NewTask(_) => a::NewTask::COMMAND.name,
        Command::Worker(_) => a::Worker::COMMAND.name,
        Command::EmitLog(_) => a::EmitLog::COMMAND.name,
        Command::ReceiveLogs(_) => a::ReceiveLogs::COMMAND.name,
        Command::EmitLogDirect(_) => a::EmitLogDirect::COMMAND.name,
        Command::ReceiveLogsDirect(_) => a::ReceiveLogsDirect::COMMAND.name,
        Command::EmitLogTopic(_) => a::EmitLogTopic::COMMAND.name,
        Command::ReceiveLogsTopic(_) => a::ReceiveLogsTopic::COMMAND.name,
        Command::EmitLogHeaders(_) => a::EmitLogHeaders::COMMAND.name,
        Command::ReceiveLogsHeaders(_) => a::ReceiveLogsHeaders::COMMAND.name,
        Command::RpcServer(_) => a::RpcServer::COMMAND.name,
        Command::RpcClient(_) => a::RpcClient::COMMAND.name,
        Command::PublisherConfirms(_) => a::PublisherConfirms::COMMAND.name,
        Command::Bench(_) => a::Bench::COMMAND.name,
        Command::Ping(_) => a::Ping::COMMAND.name,
        Command::StreamSend(_) => a::StreamSend::COMMAND.name,
        Command::StreamReceive(_) => a::StreamReceive::COMMAND.name,
        Command::OffsetTrackingSend(_) => a::OffsetTrackingSend::COMMAND.name,
        Command::OffsetTrackingReceive(_) => a::OffsetTrackingReceive::COMMAND.name,
    }
}

/// Every name of `job` fits AMQP's short string (the broker would close the connection with
/// FRAME_ERROR and a dump of the frame): `--queue is 300 bytes: AMQP names are at most 255`.
pub(super) fn check_lengths(command: &'static str, job: &Job) -> Result<(), Error> {
    let mut names: Vec<(&str, &str)> = Vec::new();
    match job {
        Job::Send { queue, .. }
        | Job::Receive { queue, .. }
        | Job::NewTask { queue, .. }
        | Job::Worker { queue, .. }
        | Job::RpcServer { queue, .. }
        | Job::RpcClient { queue, .. } => names.push(("--queue", queue)),
        Job::PublisherConfirms { queue, .. } => {
            names.extend(queue.as_deref().map(|q| ("--queue", q)));
        }
        Job::Emit {
            exchange, envelope, ..
        } => {
            names.push(("--exchange", exchange));
            names.push(("the routing key", &envelope.routing_key));
        }
        Job::ReceiveLogs {
            exchange, bindings, ..
        } => {
            names.push(("--exchange", exchange));
            names.extend(bindings.iter().map(|b| ("a binding key", b.key.as_str())));
        }
        Job::Bench(_) | Job::Ping(_) => {}
    }
    match names.into_iter().find(|(_, name)| name.len() > MAX_NAME) {
        Some((what, name)) => Err(Error::usage(
            command,
            format!(
                "{what} is {} bytes: AMQP names are at most {MAX_NAME}",
                name.len()
            ),
        )),
        None => Ok(()),
    }
}
