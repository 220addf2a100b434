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
//! `error:` line on stderr) and exits 1 when nothing listens there; exits 1 with an `error:` line
//! when the reply does not come within 5 seconds.

use std::io;
use std::process::ExitCode;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `reactor.run()`: the runtime is the event loop, on one thread like Twisted's reactor.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:1234".to_owned());
    let message = args.next().unwrap_or_else(|| "hello alex!".to_owned());

    // reactor.connectTCP(host, port, factory). Its Deferred is this future; awaiting it gives
    // the callback's value (Ok) or the errback's failure (Err): clientConnectionFailed.
    let mut stream = match TcpStream::connect(&addr).await {
        Ok(stream) => stream,
        Err(e) => {
            println!("Connection failed - goodbye!");
            eprintln!("error: cannot connect to {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    // reactor.callLater(5, ...) as a deadline: tokio::time cancels the exchange if it is late.
    match tokio::time::timeout(
        Duration::from_secs(5),
        talk(&mut stream, message.as_bytes()),
    )
    .await
    {
        Ok(Ok(reply)) => {
            println!("Server said: {}", String::from_utf8_lossy(&reply));
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("error: {addr}: {e}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("error: {addr}: no reply within 5 s");
            ExitCode::FAILURE
        }
    }
    // transport.loseConnection(): the stream is dropped, the connection closes, and returning
    // from main is reactor.stop().
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
