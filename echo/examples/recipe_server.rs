//! The server recipe (notes §1.4), the smallest complete tokio program with the shape of the
//! notes' Twisted `Echo` server. Each Twisted piece is named where it lands; docs/recipes.md
//! walks through it.
//!
//! ```sh
//! cargo run -p echo --example recipe_server          # listens on 127.0.0.1:1234
//! cargo run -p echo --example recipe_server -- 0     # port 0: a free port, printed
//! ```
//!
//! The first line on stdout is `listening on 127.0.0.1:PORT`. Ctrl-C (SIGINT) stops it: it
//! prints `stopped after N connection(s)` and exits 0. It exits 1 with an `error:` line when it
//! cannot listen (the port is taken), 2 for a port that is not a number. A closed stdout or
//! stderr does not stop it (`println!` would panic there: `say` and `warn` do not).

use std::fmt::Arguments;
use std::io::{self, Write};
use std::process::ExitCode;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};

/// `reactor.run()`: the runtime is the event loop; `current_thread` keeps it on one thread, like
/// Twisted's reactor.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let port = match std::env::args().nth(1).map(|arg| arg.parse::<u16>()) {
        None => 1234,
        Some(Ok(port)) => port,
        Some(Err(_)) => {
            warn(format_args!(
                "error: the port must be a number from 0 to 65535"
            ));
            return ExitCode::from(2);
        }
    };
    match serve(port).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            warn(format_args!("error: {e}"));
            ExitCode::FAILURE
        }
    }
}

/// A line on stdout; a reader that went away (`| head -1`) is no reason to stop serving.
fn say(line: Arguments<'_>) {
    let _ = writeln!(io::stdout(), "{line}");
}

/// A line on stderr, the same way.
fn warn(line: Arguments<'_>) {
    let _ = writeln!(io::stderr(), "{line}");
}

/// Listens on 127.0.0.1:`port` and echoes until Ctrl-C.
async fn serve(port: u16) -> io::Result<()> {
    // reactor.stop(), wired to Ctrl-C: the handler is armed now, before the first client.
    let mut interrupt = signal(SignalKind::interrupt())?;
    // reactor.listenTCP(port, factory)
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    say(format_args!("listening on {}", listener.local_addr()?));

    // The Factory: the accept loop, which starts one Protocol (a task) per connection.
    let mut connections = 0u64;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections += 1;
                    tokio::spawn(async move {
                        if let Err(e) = echo(stream).await {
                            warn(format_args!("{peer}: {e}"));
                        }
                    });
                }
                Err(e) => warn(format_args!("accept failed: {e}")),
            },
            _ = interrupt.recv() => break,
        }
    }
    // Returning ends main and the runtime: connections still open are dropped (closed).
    say(format_args!("stopped after {connections} connection(s)"));
    Ok(())
}

/// The Protocol: one task per connection, its callbacks become the lines of one function.
async fn echo(mut stream: TcpStream) -> io::Result<()> {
    // connectionMade would go here.
    let mut buf = vec![0u8; 4096];
    loop {
        // dataReceived(data): wait until bytes arrive.
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            // connectionLost: the client closed its side.
            return Ok(());
        }
        // self.transport.write(data)
        stream.write_all(&buf[..n]).await?;
    }
}
