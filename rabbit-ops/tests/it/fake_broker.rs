//! A fake AMQP 0-9-1 broker written here, for what a real one will not do: it completes as much
//! of the handshake as a test needs, then stalls or lies (issue 13), sits behind TLS (issue 22),
//! or answers as RabbitMQ 4.x does where 3.10 cannot show it (issue 22).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;

use native_tls::{Identity, TlsAcceptor};
use test_support::TestPki;

/// What the fake broker does after (or instead of) the handshake.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lie {
    /// Never answers channel.open.
    ChannelOpen,
    /// Opens the channel, never answers what comes next (a declare, qos...).
    Declare,
    /// Announces frame_max 4 GiB, then sends a frame header of 4 GiB - 256 MiB.
    HugeFrame,
    /// Answers the protocol header with a frame header announcing 4 GiB - 1, as its first frame.
    HugeFirstFrame,
    /// Offers this frame_max in its connection.tune, then never answers channel.open.
    FrameMax(u32),
    /// RabbitMQ 4.3 with its defaults, as far as publishing goes: a queue.declare that is
    /// neither durable nor exclusive (nor passive) closes the connection with 541
    /// INTERNAL_ERROR and the deprecation text (cut at 255 bytes, as RabbitMQ does), and so
    /// does a global basic.qos (540 NOT_IMPLEMENTED, the channel closed); any other declare is
    /// declared, confirm.select is answered, publishes are taken (and confirmed in confirm
    /// mode), closes are answered.
    Rabbit43,
    /// Answers connection.open with a connection.close 403 whose text quotes the password it
    /// got in start-ok, as a broker's (or an auth plugin's) error text may.
    EchoPassword,
}

/// RabbitMQ 4.3's refusal of a transient non-exclusive queue: its reply text (its lines are
/// `~n`-separated), which [`short_string`] cuts at AMQP's 255 bytes as RabbitMQ does.
pub const DENIED_TRANSIENT: &str = "INTERNAL_ERROR - Feature `transient_nonexcl_queues` is \
     deprecated.\nBy default, this feature is not permitted anymore.\nThe feature will be removed \
     from a future major RabbitMQ version, regardless of the configuration; actual version to be \
     determined.\nTo continue using this feature when it is not permitted by default, set the fol";

fn frame(kind: u8, channel: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![kind];
    f.extend(channel.to_be_bytes());
    f.extend(u32::try_from(payload.len()).unwrap().to_be_bytes());
    f.extend(payload);
    f.push(0xCE);
    f
}

fn method(channel: u16, class: u16, id: u16, args: &[u8]) -> Vec<u8> {
    let mut p = class.to_be_bytes().to_vec();
    p.extend(id.to_be_bytes());
    p.extend(args);
    frame(1, channel, &p)
}

/// An AMQP short string: its length and its bytes, cut at 255 as RabbitMQ cuts its texts.
fn short_string(text: &str) -> Vec<u8> {
    let bytes = &text.as_bytes()[..text.len().min(255)];
    let mut s = vec![u8::try_from(bytes.len()).expect("at most 255")];
    s.extend(bytes);
    s
}

/// A frame our client sent.
struct Frame {
    /// 1 method, 2 content header, 3 content body, 8 heartbeat.
    kind: u8,
    channel: u16,
    payload: Vec<u8>,
}

/// Reads one frame.
fn read_frame(s: &mut impl Read) -> Option<Frame> {
    let mut head = [0u8; 7];
    s.read_exact(&mut head).ok()?;
    let size = u32::from_be_bytes([head[3], head[4], head[5], head[6]]) as usize;
    let mut payload = vec![0u8; size + 1];
    s.read_exact(&mut payload).ok()?;
    payload.pop();
    Some(Frame {
        kind: head[0],
        channel: u16::from_be_bytes([head[1], head[2]]),
        payload,
    })
}

/// A fake broker that lies as told; answers its address and the frame_max our client asked
/// for in its tune-ok (0 until one came).
pub fn fake_broker(lie: Lie) -> (SocketAddr, Arc<AtomicU32>) {
    fake_broker_over(lie, None)
}

/// [`fake_broker`], behind TLS when `tls` is given: each connection's TLS handshake first.
pub fn fake_broker_over(lie: Lie, tls: Option<TlsAcceptor>) -> (SocketAddr, Arc<AtomicU32>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let asked = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&asked);
    thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            let seen = Arc::clone(&seen);
            let tls = tls.clone();
            thread::spawn(move || match tls {
                None => serve(&mut s, lie, &seen),
                Some(acceptor) => serve(&mut acceptor.accept(s).ok()?, lie, &seen),
            });
        }
    });
    (addr, asked)
}

/// A TLS server's side for [`fake_broker_over`]: the test PKI's certificate for 127.0.0.1.
pub fn tls_acceptor(pki: &TestPki) -> TlsAcceptor {
    let identity = Identity::from_pkcs8(&pki.read("server.pem"), &pki.read("server.key"))
        .expect("the test PKI's server certificate");
    TlsAcceptor::new(identity).expect("a TLS acceptor")
}

/// `amqp://guest:guest@<addr>/%2f`.
pub fn url(addr: SocketAddr) -> String {
    format!("amqp://guest:guest@{addr}/%2f")
}

/// A frame header of type 1 on channel 0 announcing `size` bytes, and the first KiB of them.
fn huge_frame(size: u32) -> Vec<u8> {
    let mut huge = vec![1u8, 0, 0];
    huge.extend(size.to_be_bytes());
    huge.extend([0u8; 1024]);
    huge
}

fn serve(s: &mut (impl Read + Write), lie: Lie, asked: &AtomicU32) -> Option<()> {
    let mut header = [0u8; 8];
    s.read_exact(&mut header).ok()?;
    if lie == Lie::HugeFirstFrame {
        s.write_all(&huge_frame(u32::MAX)).ok()?;
        s.flush().ok()?;
        // Keep the connection open: the client must refuse the frame by itself.
        while s.read(&mut [0u8; 1024]).ok()? > 0 {}
        return Some(());
    }
    let mut start = vec![0, 9, 0, 0, 0, 0];
    for text in ["PLAIN", "en_US"] {
        start.extend(u32::try_from(text.len()).unwrap().to_be_bytes());
        start.extend(text.as_bytes());
    }
    s.write_all(&method(0, 10, 10, &start)).ok()?;
    let start_ok = read_frame(s)?; // start-ok
    let frame_max: u32 = match lie {
        Lie::HugeFrame => u32::MAX,
        Lie::FrameMax(n) => n,
        _ => 131_072,
    };
    let mut tune = 2047u16.to_be_bytes().to_vec();
    tune.extend(frame_max.to_be_bytes());
    tune.extend(0u16.to_be_bytes()); // no heartbeats: only our deadlines can help
    s.write_all(&method(0, 10, 30, &tune)).ok()?;
    let tune_ok = read_frame(s)?.payload;
    asked.store(
        u32::from_be_bytes([tune_ok[6], tune_ok[7], tune_ok[8], tune_ok[9]]),
        Ordering::Relaxed,
    );
    read_frame(s)?; // connection.open
    if lie == Lie::EchoPassword {
        // The PLAIN response is `\0user\0password`, the locale (`en_US`, a short string) after.
        let text = String::from_utf8_lossy(&start_ok.payload);
        let password = text.rsplit('\0').next().unwrap_or_default();
        let password = password.trim_end_matches("\u{5}en_US").to_owned();
        let mut close = 403u16.to_be_bytes().to_vec();
        close.extend(short_string(&format!(
            "ACCESS_REFUSED - password '{password}' refused by the auth backend"
        )));
        close.extend(10u16.to_be_bytes());
        close.extend(40u16.to_be_bytes());
        s.write_all(&method(0, 10, 50, &close)).ok()?;
        while s.read(&mut [0u8; 1024]).ok()? > 0 {}
        return Some(());
    }
    s.write_all(&method(0, 10, 41, &[0])).ok()?;
    if lie == Lie::HugeFrame {
        s.write_all(&huge_frame(0xF000_0000)).ok()?;
        s.flush().ok()?;
    }
    // Read what comes; answer channel.open only when told to lie later.
    let mut rabbit = Rabbit43::default();
    while let Some(f) = read_frame(s) {
        let open = f.kind == 1 && f.payload.starts_with(&[0, 20, 0, 10]);
        match lie {
            Lie::Declare if open => s
                .write_all(&method(f.channel, 20, 11, &[0, 0, 0, 0]))
                .ok()?,
            Lie::Rabbit43 if !rabbit.answer(s, &f)? => {
                // Closed: the client's close-ok (or nothing), then its end of the socket.
                while s.read(&mut [0u8; 1024]).ok()? > 0 {}
                return Some(());
            }
            _ => {}
        }
    }
    Some(())
}

/// What [`Lie::Rabbit43`] keeps of a connection: its publishes, for the confirms.
#[derive(Default)]
struct Rabbit43 {
    /// Channels in confirm mode, and how many messages each has published so far.
    confirming: std::collections::HashMap<u16, u64>,
    /// Body bytes still to come of the message being published, and its channel.
    pending: Option<(u16, u64)>,
}

impl Rabbit43 {
    /// Answers one frame of the client; `false` once the connection is closed.
    fn answer(&mut self, s: &mut impl Write, f: &Frame) -> Option<bool> {
        match f.kind {
            1 => rabbit_4_3(s, f.channel, &f.payload, &mut self.confirming),
            2 => {
                let size = u64::from_be_bytes(f.payload.get(4..12)?.try_into().ok()?);
                self.pending = Some((f.channel, size));
                self.published(s)
            }
            3 => {
                let (channel, left) = self.pending?;
                self.pending = Some((channel, left.saturating_sub(f.payload.len() as u64)));
                self.published(s)
            }
            _ => Some(true),
        }
    }

    /// Confirms the message being published once its body is all there (in confirm mode).
    fn published(&mut self, s: &mut impl Write) -> Option<bool> {
        if let Some((channel, 0)) = self.pending {
            self.pending = None;
            if let Some(n) = self.confirming.get_mut(&channel) {
                *n += 1;
                let mut ack = n.to_be_bytes().to_vec();
                ack.push(0); // not multiple
                s.write_all(&method(channel, 60, 80, &ack)).ok()?;
            }
        }
        Some(true)
    }
}

/// [`Lie::Rabbit43`]: answers one method of the client; `false` once the connection is closed.
fn rabbit_4_3(
    s: &mut impl Write,
    channel: u16,
    payload: &[u8],
    confirming: &mut std::collections::HashMap<u16, u64>,
) -> Option<bool> {
    let (&[c0, c1, m0, m1], args) = payload.split_first_chunk::<4>()?;
    match (u16::from_be_bytes([c0, c1]), u16::from_be_bytes([m0, m1])) {
        // channel.open
        (20, 10) => s.write_all(&method(channel, 20, 11, &[0, 0, 0, 0])).ok()?,
        // channel.close
        (20, 40) => {
            confirming.remove(&channel);
            s.write_all(&method(channel, 20, 41, &[])).ok()?;
        }
        // basic.qos: prefetch size (4), count (2), global (a bit)
        (60, 10) => {
            if args.get(6)? & 1 != 0 {
                let mut close = 540u16.to_be_bytes().to_vec();
                close.extend(short_string(
                    "NOT_IMPLEMENTED - Feature `global_qos` is deprecated.",
                ));
                close.extend(60u16.to_be_bytes());
                close.extend(10u16.to_be_bytes());
                s.write_all(&method(channel, 20, 40, &close)).ok()?;
            } else {
                s.write_all(&method(channel, 60, 11, &[])).ok()?;
            }
        }
        // basic.consume: reserved (2), the queue, the consumer tag (short strings)...
        (60, 20) => {
            let len = usize::from(*args.get(2)?);
            let tag_len = usize::from(*args.get(3 + len)?);
            let tag = String::from_utf8_lossy(args.get(4 + len..4 + len + tag_len)?).into_owned();
            let tag = if tag.is_empty() {
                "amq.ctag-fake".to_owned()
            } else {
                tag
            };
            s.write_all(&method(channel, 60, 21, &short_string(&tag)))
                .ok()?;
        }
        // confirm.select
        (85, 10) => {
            confirming.insert(channel, 0);
            if args.first()? & 1 == 0 {
                s.write_all(&method(channel, 85, 11, &[])).ok()?;
            }
        }
        // connection.close
        (10, 50) => {
            s.write_all(&method(0, 10, 51, &[])).ok()?;
            return Some(false);
        }
        // queue.declare: reserved (2), the name (a short string), then the bits
        (50, 10) => {
            let len = usize::from(*args.get(2)?);
            let name = String::from_utf8_lossy(args.get(3..3 + len)?).into_owned();
            let bits = *args.get(3 + len)?;
            let (passive, durable, exclusive) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
            if !passive && !durable && !exclusive {
                let mut close = 541u16.to_be_bytes().to_vec();
                close.extend(short_string(DENIED_TRANSIENT));
                close.extend(50u16.to_be_bytes());
                close.extend(10u16.to_be_bytes());
                s.write_all(&method(0, 10, 50, &close)).ok()?;
                return Some(false);
            }
            let mut ok = short_string(&name);
            ok.extend([0u8; 8]); // no messages, no consumers
            s.write_all(&method(channel, 50, 11, &ok)).ok()?;
        }
        // queue.delete
        (50, 40) => s.write_all(&method(channel, 50, 41, &[0, 0, 0, 0])).ok()?,
        _ => {}
    }
    Some(true)
}
