//! A server's reply, shared by the three poetry servers: write it with a stall timeout and the
//! shutdown's abort in view ([`write_all`], [`Cut`] saying why it stopped), and end one that was
//! cut short with a reset ([`reset`]). (The accept loop itself is `common::net::serve`.)

use std::io;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// Why a connection was cut short.
#[derive(Debug)]
pub(crate) enum Cut {
    /// The grace period after a shutdown request is over.
    Aborted,
    /// The client took nothing for the stall timeout.
    Stalled,
    /// The connection failed (the client reset it, say).
    Failed(io::Error),
}

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cut::Aborted => f.write_str("the server is shutting down"),
            Cut::Stalled => f.write_str("the client stopped reading"),
            Cut::Failed(e) => f.write_str(&common::net::describe_io(e)),
        }
    }
}

/// Writes all of `data`, giving up when one write makes no progress for `stall` or when
/// `abort` fires.
pub(crate) async fn write_all(
    stream: &mut TcpStream,
    mut data: &[u8],
    stall: Duration,
    abort: &CancellationToken,
) -> Result<(), Cut> {
    use tokio::io::AsyncWriteExt;
    while !data.is_empty() {
        let n = tokio::select! {
            biased;
            () = abort.cancelled() => return Err(Cut::Aborted),
            r = tokio::time::timeout(stall, stream.write(data)) => match r {
                Err(_) => return Err(Cut::Stalled),
                Ok(Err(e)) => return Err(Cut::Failed(e)),
                Ok(Ok(0)) => return Err(Cut::Failed(io::ErrorKind::WriteZero.into())),
                Ok(Ok(n)) => n,
            },
        };
        data = &data[n..];
    }
    Ok(())
}

/// Ends a connection that did not deliver its whole reply with a reset, not a FIN: in these
/// protocols a clean close means "that was all of it", which would be a lie.
pub(crate) fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// A peer address for a log line ("a client" when the socket no longer knows it). Callers
/// look it up only when the line is printed.
pub(crate) fn peer_name(addr: io::Result<std::net::SocketAddr>) -> String {
    addr.map_or_else(|_| "a client".to_owned(), |a| a.to_string())
}
