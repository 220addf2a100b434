//! The echo client: send a message and check that exactly it comes back ([`echo_once`],
//! [`echo_once_udp`]), or stream an input to the server and the echoes to an output like `nc`
//! ([`relay`], over TCP or UDP). What comes back goes to the program's output through
//! [`Out`], so a closed stdout ends the relay quietly ([`Error::Print`]).

use std::future::Future;
use std::io::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use common::output::Out;
use common::shutdown::Signal;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};

use crate::Error;

/// The largest payload of one UDP datagram over IPv4: the bound of `--message` with `--udp`,
/// and of a line of `--stdin --udp`.
pub const MAX_DATAGRAM: usize = 65_507;

/// The longest `--message` over TCP: 128 KiB less one byte, the longest argument Linux passes to
/// a program (`MAX_ARG_STRLEN`, the terminating zero included).
pub const MAX_MESSAGE: usize = 128 * 1024 - 1;

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
                common::duration::duration(timeout)
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

/// What a relay did: bytes (TCP) or lines (UDP) sent, and echoed back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relayed {
    /// Bytes of the input the server took (TCP), or lines sent as datagrams (UDP).
    pub sent: u64,
    /// Bytes (TCP) or datagrams (UDP) that came back and went to the output.
    pub received: u64,
}

impl Relayed {
    /// Runs `relay`, which counts what it sends and gets back, until it ends or `stop` resolves:
    /// answers the counts, its error, or the interruption with the counts in words (`said`).
    async fn count(
        relay: impl AsyncFnOnce(&mut Self) -> Result<(), Error>,
        stop: impl Future<Output = Signal>,
        said: impl FnOnce(&Self) -> String,
    ) -> Result<Self, Error> {
        let mut done = Self::default();
        match crate::or_signal(relay(&mut done), stop).await {
            Ok(relayed) => relayed.map(|()| done),
            Err(signal) => Err(Error::interrupted(signal, said(&done))),
        }
    }
}

/// The bytes read from the input, or written to the server, in one step.
const RELAY_BUF: usize = 64 * 1024;

/// Relays `input` to the server at `addr` and its echoes to `out`, like `nc`, until the
/// relay ends or `stop` resolves (SIGINT, SIGTERM: an [`Error::Interrupted`] that says how many
/// bytes, or lines, went each way).
///
/// Over TCP: streams `input` to the server and everything the server sends to `out` (flushed as
/// it comes). When `input` ends, shuts the write side (half-close) and goes on reading until the
/// server closes. Also ends, successfully, when the server closes first. Memory stays at three
/// buffers of 64 KiB, whatever the input. The server is never waited for longer than `timeout`
/// without progress: a write it takes nothing of ([`Error::NotReading`]), an echo that stops
/// coming back while bytes are still owed ([`Error::Timeout`]), silence without a close once
/// `input` has ended ([`Error::Silent`]). Waiting for the input itself (a terminal) has no
/// bound.
///
/// Over UDP (`udp`): each line of `input` (with its newline) goes out as one datagram; its
/// echo, checked, goes to `out`, until the input ends. A line longer than [`MAX_DATAGRAM`]
/// bytes is an [`Error::Input`] (the line is never held whole: memory stays bounded whatever
/// the input).
pub async fn relay(
    addr: SocketAddr,
    udp: bool,
    input: impl AsyncBufRead + Unpin,
    out: &mut Out<impl Write>,
    timeout: Duration,
    stop: impl Future<Output = Signal>,
) -> Result<Relayed, Error> {
    let relay = async |done: &mut Relayed| {
        if !udp {
            return relay_tcp(addr, input, out, timeout, done).await;
        }
        // A datagram a line, each echo back (checked) before the next line is read.
        let socket = udp_socket(addr).await?;
        let (mut input, mut line) = (input, Vec::new());
        let mut buf = vec![0u8; MAX_DATAGRAM + 1];
        loop {
            line.clear();
            if !read_line(&mut input, &mut line, done.sent + 1).await? {
                return Ok(());
            }
            done.sent += 1;
            let got = udp_exchange(&socket, addr, &line, timeout, &mut buf).await?;
            out.bytes(&buf[..got])?;
            out.flush()?;
            done.received += 1;
        }
    };
    Relayed::count(relay, stop, |d| {
        if udp {
            let s = if d.sent == 1 { "" } else { "s" };
            format!(
                "{} line{s} of the input sent to {addr}, {} echoed back",
                d.sent, d.received
            )
        } else {
            format!(
                "{} bytes of the input sent to {addr}, {} bytes echoed back",
                d.sent, d.received
            )
        }
    })
    .await
}

async fn relay_tcp(
    addr: SocketAddr,
    mut input: impl AsyncRead + Unpin,
    out: &mut Out<impl Write>,
    timeout: Duration,
    done: &mut Relayed,
) -> Result<(), Error> {
    let send_failed = |e| Error::io(format!("cannot send to {addr}"), e);
    let mut stream = connect(addr, Instant::now() + timeout, timeout).await?;
    let (mut rd, mut wr) = stream.split();
    // The input is read into `fresh`, then swapped (not copied) into `pending`, written from
    // `pending[from..to]`; the echoes are read into `back`.
    let mut fresh = vec![0u8; RELAY_BUF];
    let mut pending = vec![0u8; RELAY_BUF];
    let (mut from, mut to) = (0, 0);
    let mut back = vec![0u8; RELAY_BUF];
    let mut input_ended = false;
    // Since when the server has owed something (to take bytes, echo them, or close) without
    // any progress.
    let mut waiting_since = Instant::now();
    loop {
        let writing = from < to;
        let owed = done.received < done.sent;
        tokio::select! {
            r = input.read(&mut fresh), if !writing && !input_ended => {
                let n = r.map_err(|e| Error::io("cannot read the input", e))?;
                if !owed {
                    waiting_since = Instant::now();
                }
                if n == 0 {
                    wr.shutdown().await.map_err(send_failed)?;
                    input_ended = true;
                } else {
                    std::mem::swap(&mut fresh, &mut pending);
                    (from, to) = (0, n);
                }
            }
            r = wr.write(&pending[from..to]), if writing => {
                let n = r.map_err(send_failed)?;
                if n == 0 {
                    return Err(send_failed(io::ErrorKind::WriteZero.into()));
                }
                from += n;
                done.sent += n as u64;
                waiting_since = Instant::now();
            }
            r = rd.read(&mut back) => {
                let n = r.map_err(|e| Error::io(format!("cannot read from {addr}"), e))?;
                if n == 0 {
                    return Ok(());
                }
                done.received += n as u64;
                out.bytes(&back[..n])?;
                out.flush()?;
                waiting_since = Instant::now();
            }
            () = tokio::time::sleep_until(waiting_since + timeout), if writing || owed || input_ended => {
                return Err(if writing {
                    Error::NotReading { addr, timeout, sent: done.sent }
                } else if input_ended {
                    Error::Silent { addr, timeout }
                } else {
                    Error::Timeout {
                        addr,
                        timeout,
                        got: done.received as usize,
                        want: done.sent as usize,
                    }
                });
            }
        }
    }
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

/// Reads line number `number` of `input` (with its newline, if any) into `line`; `false` at the
/// end of the input. A line longer than [`MAX_DATAGRAM`] is refused before it is read whole.
async fn read_line(
    input: &mut (impl AsyncBufRead + Unpin),
    line: &mut Vec<u8>,
    number: u64,
) -> Result<bool, Error> {
    loop {
        let available = input
            .fill_buf()
            .await
            .map_err(|e| Error::io("cannot read the input", e))?;
        if available.is_empty() {
            return Ok(!line.is_empty());
        }
        let (take, complete) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if line.len() + take > MAX_DATAGRAM {
            return Err(Error::Input(format!(
                "line {number} of the input is longer than {MAX_DATAGRAM} bytes, the most one \
                 UDP datagram holds"
            )));
        }
        line.extend_from_slice(&available[..take]);
        input.consume(take);
        if complete {
            return Ok(true);
        }
    }
}
