//! The shutdown signal: a future that resolves on SIGINT (Ctrl-C) or SIGTERM.
//!
//! [`install`] arms the handlers at once and hands back the future, so a server can arm them,
//! then announce that it is ready, then wait. [`on_signal`] is the same for blocking programs
//! (the RabbitMQ lessons run amiquip on plain threads).

use std::future::Future;
use std::io;

/// Which signal asked us to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT, Ctrl-C.
    Interrupt,
    /// SIGTERM, `kill` or a service manager.
    Terminate,
}

/// Installs the SIGINT and SIGTERM handlers now; the returned future resolves on the first of
/// them. Must be called inside a tokio runtime.
pub fn install() -> io::Result<impl Future<Output = Signal> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => Signal::Interrupt,
            _ = term.recv() => Signal::Terminate,
        }
    })
}

/// Resolves when the process receives SIGINT or SIGTERM (handlers installed on first poll).
pub async fn signal() -> io::Result<Signal> {
    Ok(install()?.await)
}

/// For blocking programs: installs the handlers now and calls `f` from a background thread when
/// SIGINT or SIGTERM arrives.
pub fn on_signal(f: impl FnOnce(Signal) + Send + 'static) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let wait = rt.block_on(async { install() })?;
    std::thread::Builder::new()
        .name("signal".into())
        .spawn(move || f(rt.block_on(wait)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    fn raise(sig: &str) {
        let status = std::process::Command::new("kill")
            .args(["-s", sig, &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    // Both signals in one test: the process-wide handlers stay installed once armed, so a
    // signal sent by a test runs no default action (which would kill the test binary).
    #[test]
    fn resolves_on_sigterm_and_sigint() {
        let (tx, rx) = mpsc::channel();
        on_signal(move |s| tx.send(s).unwrap()).unwrap();
        raise("TERM");
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)).unwrap(),
            Signal::Terminate
        );

        let rt = tokio::runtime::Runtime::new().unwrap();
        let got = rt.block_on(async {
            let wait = install().unwrap();
            raise("INT");
            tokio::time::timeout(Duration::from_secs(5), wait).await
        });
        assert_eq!(got.unwrap(), Signal::Interrupt);
    }
}
