//! The echo client: send a message and check that exactly it comes back ([`echo_once`],
//! [`echo_once_udp`]), or stream an input to the server and the echoes to an output like `nc`
//! ([`relay`], [`relay_udp`]). What comes back goes to the program's output through
//! [`Out`], so a closed stdout ends the relay quietly ([`Error::Print`]).

use std::io::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use common::output::Out;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};

use crate::Error;

/// The largest payload of one UDP datagram over IPv4.
pub const MAX_DATAGRAM: usize = 65_507;

/// Connects within `deadline`; a refusal or a time-out is a [`Error::Connect`].
pub(crate) async fn connect(
    addr: SocketAddr,
    deadline: Instant,
    timeout: Duration,
) -> Result<TcpStream, Error> {
    match timeout_at(deadline, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
        Ok(Err(cause)) => Err(Error::Connect { addr, cause }),
        Err(_) => Err(Error::Connect {
            addr,
            cause: io::Error::other(format!(
                "no answer within {}",
                common::fmt::duration(timeout)
            )),
        }),
    }
}

/// Sends `message` over TCP and reads until as many bytes have come back, within `timeout`
/// (connecting included). Returns the echo, which is then equal to `message`.
///
/// Errors: [`Error::Connect`] (refused), [`Error::Timeout`], [`Error::Closed`] (the server hung
/// up early), [`Error::Mismatch`] (a byte differs; detected as soon as it arrives).
pub async fn echo_once(
    addr: SocketAddr,
    message: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, Error> {
    let deadline = Instant::now() + timeout;
    let mut stream = connect(addr, deadline, timeout).await?;
    let (mut rd, mut wr) = stream.split();
    let mut echo = Vec::with_capacity(message.len());
    // Write and read at once: an echo server stops reading from a client that does not read.
    let send = async {
        wr.write_all(message)
            .await
            .map_err(|e| Error::io(format!("cannot send to {addr}"), e))
    };
    let receive = async {
        let mut buf = vec![0u8; 64 * 1024];
        while echo.len() < message.len() {
            let want = (message.len() - echo.len()).min(buf.len());
            let n = rd
                .read(&mut buf[..want])
                .await
                .map_err(|e| Error::io(format!("cannot read from {addr}"), e))?;
            if n == 0 {
                return Err(Error::Closed {
                    addr,
                    got: echo.len(),
                    want: message.len(),
                });
            }
            let expected = &message[echo.len()..echo.len() + n];
            if let Some(i) = expected.iter().zip(&buf[..n]).position(|(a, b)| a != b) {
                return Err(Error::Mismatch {
                    addr,
                    offset: echo.len() + i,
                });
            }
            echo.extend_from_slice(&buf[..n]);
        }
        Ok(())
    };
    match timeout_at(deadline, async { tokio::try_join!(send, receive) }).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            return Err(Error::Timeout {
                addr,
                timeout,
                got: echo.len(),
                want: message.len(),
            });
        }
    }
    Ok(echo)
}

/// Streams `input` to the server and everything the server sends to `out` (flushed as it
/// comes), like `nc`. When `input` ends, shuts the write side (half-close) and goes on reading
/// until the server closes; that last stretch may not stay silent for longer than `timeout`.
/// Also ends, successfully, when the server closes first. Returns the bytes received.
pub async fn relay(
    addr: SocketAddr,
    mut input: impl AsyncRead + Unpin,
    out: &mut Out<impl Write>,
    timeout: Duration,
) -> Result<u64, Error> {
    let mut stream = connect(addr, Instant::now() + timeout, timeout).await?;
    let (mut rd, mut wr) = stream.split();
    let send = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = input
                .read(&mut buf)
                .await
                .map_err(|e| Error::io("cannot read the input", e))?;
            if n == 0 {
                break;
            }
            wr.write_all(&buf[..n])
                .await
                .map_err(|e| Error::io(format!("cannot send to {addr}"), e))?;
        }
        wr.shutdown()
            .await
            .map_err(|e| Error::io(format!("cannot send to {addr}"), e))
    };
    let mut send = std::pin::pin!(send);
    let mut sent_all = false;
    let mut received = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let quiet_until = Instant::now() + timeout;
        let n = tokio::select! {
            r = &mut send, if !sent_all => {
                r?;
                sent_all = true;
                continue;
            }
            r = rd.read(&mut buf) => r.map_err(|e| Error::io(format!("cannot read from {addr}"), e))?,
            () = tokio::time::sleep_until(quiet_until), if sent_all => {
                return Err(Error::Silent { addr, timeout });
            }
        };
        if n == 0 {
            break;
        }
        received += n as u64;
        out.bytes(&buf[..n])?;
        out.flush()?;
    }
    Ok(received)
}

async fn udp_socket(addr: SocketAddr) -> Result<UdpSocket, Error> {
    let local: SocketAddr = if addr.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local)
        .await
        .map_err(|e| Error::io("cannot open a UDP socket", e))?;
    socket
        .connect(addr)
        .await
        .map_err(|cause| Error::Connect { addr, cause })?;
    Ok(socket)
}

/// One datagram out, one back within the deadline, compared.
async fn udp_exchange(
    socket: &UdpSocket,
    addr: SocketAddr,
    message: &[u8],
    timeout: Duration,
    buf: &mut [u8],
) -> Result<usize, Error> {
    if message.len() > MAX_DATAGRAM {
        return Err(Error::usage(format!(
            "a UDP message holds at most {MAX_DATAGRAM} bytes, not {}",
            message.len()
        )));
    }
    let refused = |cause: io::Error| {
        if cause.kind() == io::ErrorKind::ConnectionRefused {
            Error::Connect { addr, cause }
        } else {
            Error::io(format!("cannot talk to {addr}"), cause)
        }
    };
    let deadline = Instant::now() + timeout;
    socket.send(message).await.map_err(refused)?;
    let n = match timeout_at(deadline, socket.recv(buf)).await {
        Ok(r) => r.map_err(refused)?,
        Err(_) => {
            return Err(Error::Timeout {
                addr,
                timeout,
                got: 0,
                want: message.len(),
            });
        }
    };
    let reply = &buf[..n];
    if reply != message {
        let offset = message
            .iter()
            .zip(reply)
            .position(|(a, b)| a != b)
            .unwrap_or(n.min(message.len()));
        return Err(Error::Mismatch { addr, offset });
    }
    Ok(n)
}

/// Sends `message` as one UDP datagram and waits for the same datagram back within `timeout`.
/// A refusal (ICMP port unreachable) is an [`Error::Connect`].
pub async fn echo_once_udp(
    addr: SocketAddr,
    message: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, Error> {
    let socket = udp_socket(addr).await?;
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let n = udp_exchange(&socket, addr, message, timeout, &mut buf).await?;
    buf.truncate(n);
    Ok(buf)
}

/// Over UDP: each line of `input` (with its newline) goes out as one datagram; its echo, checked,
/// goes to `out`. Returns the lines echoed.
pub async fn relay_udp(
    addr: SocketAddr,
    mut input: impl AsyncBufRead + Unpin,
    out: &mut Out<impl Write>,
    timeout: Duration,
) -> Result<u64, Error> {
    let socket = udp_socket(addr).await?;
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let mut line = Vec::new();
    let mut lines = 0;
    loop {
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .await
            .map_err(|e| Error::io("cannot read the input", e))?;
        if n == 0 {
            return Ok(lines);
        }
        let got = udp_exchange(&socket, addr, &line, timeout, &mut buf).await?;
        out.bytes(&buf[..got])?;
        out.flush()?;
        lines += 1;
    }
}
