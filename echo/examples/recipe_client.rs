//! The client recipe (notes §1.3), the smallest complete tokio program with the shape of the
//! notes' Twisted `EchoClient`. Each Twisted piece is named where it lands; docs/recipes.md walks
//! through it.
//!
//! ```sh
//! cargo run -p echo --example recipe_client               # talks to 127.0.0.1:1234
//! cargo run -p echo --example recipe_client -- 127.0.0.1:4000 'hi there'
//! ```
//!
//! Prints `Server said: hello alex!` and exits 0; prints `Connection failed - goodbye!` (and an
//! `error:` line on stderr) and exits 1 when it cannot connect within 5 seconds; exits 1 with an
//! `error:` line when the whole echo does not come back within 5 more seconds. A closed stdout
//! (`| head -c0`) ends it quietly with 0 once the echo is back; `println!` would panic there.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long connecting, then the exchange, may each take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// `reactor.run()`: the runtime is the event loop, on one thread like Twisted's reactor.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:1234".to_owned());
    let message = args.next().unwrap_or_else(|| "hello alex!".to_owned());

    // reactor.connectTCP(host, port, factory). Its Deferred is this future; awaiting it gives
    // the callback's value (Ok) or the errback's failure (Err): clientConnectionFailed.
    // reactor.callLater(5, ...) as a deadline: tokio::time::timeout gives up on any future.
    let mut stream = match tokio::time::timeout(TIMEOUT, TcpStream::connect(&addr)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return connection_failed(&addr, &e.to_string()),
        Err(_) => return connection_failed(&addr, "no answer within 5 s"),
    };
    // The exchange under the same deadline: if it is late, the future is dropped (cancelled).
    match tokio::time::timeout(TIMEOUT, talk(&mut stream, message.as_bytes())).await {
        Ok(Ok(reply)) => {
            let said = String::from_utf8_lossy(&reply);
            match writeln!(io::stdout(), "Server said: {said}") {
                // The reader went away (`| head -c0`): the echo came back all the same.
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    fail(&format!("cannot print: {e}"))
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Ok(Err(e)) => fail(&format!("{addr}: {e}")),
        Err(_) => fail(&format!("{addr}: no reply within 5 s")),
    }
    // transport.loseConnection(): the stream is dropped, the connection closes, and returning
    // from main is reactor.stop().
}

/// The notes' `clientConnectionFailed`: say goodbye, and why.
fn connection_failed(addr: &str, why: &str) -> ExitCode {
    let _ = writeln!(io::stdout(), "Connection failed - goodbye!");
    fail(&format!("cannot connect to {addr}: {why}"))
}

/// The one `error:` line on stderr (a closed stderr is ignored), and exit 1.
fn fail(what: &str) -> ExitCode {
    let _ = writeln!(io::stderr(), "error: {what}");
    ExitCode::FAILURE
}

/// The Protocol: what `connectionMade` and `dataReceived` did, in order, in one function.
async fn talk(stream: &mut TcpStream, message: &[u8]) -> io::Result<Vec<u8>> {
    // connectionMade: self.transport.write("hello alex!")
    stream.write_all(message).await?;
    // dataReceived(data), until the whole echo is here (TCP may deliver it in pieces).
    let mut reply = vec![0u8; message.len()];
    stream.read_exact(&mut reply).await?;
    Ok(reply)
}
