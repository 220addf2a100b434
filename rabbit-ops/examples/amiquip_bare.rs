//! The reference for `rabbit-ops bench`: the same workload as a bare amiquip publish/consume
//! loop, without any of rabbit-ops' layer (no connect timeout, no recovery, no confirm tracking
//! beyond counting). Prints the same JSON object.
//!
//!     cargo run --release -p rabbit-ops --example amiquip_bare -- --messages 100000 [--size 100]
//!         [--producers 1] [--consumers 1] [--persistent] [--confirm] [--prefetch 500]
//!         [--url amqp://guest:guest@127.0.0.1:5672/%2f]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use amiquip::{
    AmqpProperties, Confirm, Connection, ConsumerMessage, ConsumerOptions, Exchange, Publish,
    QueueDeclareOptions, QueueDeleteOptions,
};
use hdrhistogram::Histogram;

struct Config {
    url: String,
    messages: u64,
    size: usize,
    producers: u64,
    consumers: u64,
    persistent: bool,
    confirm: bool,
    prefetch: u16,
}

fn parse() -> Config {
    let mut c = Config {
        url: "amqp://guest:guest@127.0.0.1:5672/%2f".into(),
        messages: 100_000,
        size: 100,
        producers: 1,
        consumers: 1,
        persistent: false,
        confirm: false,
        prefetch: 500,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().expect("a value after the option");
        match a.as_str() {
            "--url" => c.url = value(),
            "--messages" => c.messages = value().parse().expect("--messages N"),
            "--size" => c.size = value().parse().expect("--size N"),
            "--producers" => c.producers = value().parse().expect("--producers N"),
            "--consumers" => c.consumers = value().parse().expect("--consumers N"),
            "--prefetch" => c.prefetch = value().parse().expect("--prefetch N"),
            "--persistent" => c.persistent = true,
            "--confirm" => c.confirm = true,
            "--json" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    c
}

fn nanos(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

fn main() -> Result<(), amiquip::Error> {
    let c = Arc::new(parse());
    let queue = format!("amiquip-bare-bench-{}", std::process::id());
    let mut admin = Connection::insecure_open(&c.url)?;
    let admin_channel = admin.open_channel(None)?;
    let options = QueueDeclareOptions {
        durable: c.persistent,
        ..QueueDeclareOptions::default()
    };
    admin_channel.queue_declare(queue.as_str(), options.clone())?;

    let epoch = Instant::now();
    let seen: Arc<Vec<AtomicBool>> =
        Arc::new((0..c.messages).map(|_| AtomicBool::new(false)).collect());
    let received = Arc::new(AtomicU64::new(0));
    let last = Arc::new(AtomicU64::new(0));
    let hist = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("histogram"),
    ));
    let ready = Arc::new(Barrier::new(usize::try_from(c.consumers).unwrap() + 1));
    let ack_every = u64::from((c.prefetch / 4).max(1));

    let mut consumers = Vec::new();
    for _ in 0..c.consumers {
        let (c, queue, options) = (Arc::clone(&c), queue.clone(), options.clone());
        let (seen, received, last, hist, ready) = (
            Arc::clone(&seen),
            Arc::clone(&received),
            Arc::clone(&last),
            Arc::clone(&hist),
            Arc::clone(&ready),
        );
        consumers.push(std::thread::spawn(move || -> Result<(), amiquip::Error> {
            let mut conn = Connection::insecure_open(&c.url)?;
            let channel = conn.open_channel(None)?;
            channel.qos(0, c.prefetch, false)?;
            let q = channel.queue_declare(queue.as_str(), options)?;
            let consumer = q.consume(ConsumerOptions::default())?;
            ready.wait();
            let mut local =
                Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("histogram");
            let mut since_ack = 0;
            while received.load(Ordering::Relaxed) < c.messages {
                let Ok(ConsumerMessage::Delivery(d)) =
                    consumer.receiver().recv_timeout(Duration::from_millis(100))
                else {
                    continue;
                };
                let now = nanos(epoch);
                let seq = u64::from_le_bytes(d.body[..8].try_into().unwrap());
                let sent = u64::from_le_bytes(d.body[8..16].try_into().unwrap());
                let _ = local.record((now.saturating_sub(sent) / 1000).max(1));
                seen[usize::try_from(seq).unwrap()].store(true, Ordering::Relaxed);
                last.fetch_max(now, Ordering::Relaxed);
                since_ack += 1;
                let total = received.fetch_add(1, Ordering::Relaxed) + 1;
                if since_ack >= ack_every || total >= c.messages {
                    since_ack = 0;
                    consumer.ack_multiple(d)?;
                }
            }
            hist.lock().unwrap().add(&local).unwrap();
            consumer.cancel()?;
            conn.close()
        }));
    }
    ready.wait();
    let start = nanos(epoch);
    let mut producers = Vec::new();
    for p in 0..c.producers {
        let (c, queue) = (Arc::clone(&c), queue.clone());
        producers.push(std::thread::spawn(
            move || -> Result<u64, amiquip::Error> {
                let mut conn = Connection::insecure_open(&c.url)?;
                let channel = conn.open_channel(None)?;
                let confirms = if c.confirm {
                    let rx = channel.listen_for_publisher_confirms()?;
                    channel.enable_publisher_confirms()?;
                    Some(rx)
                } else {
                    None
                };
                let exchange = Exchange::direct(&channel);
                let properties = if c.persistent {
                    AmqpProperties::default().with_delivery_mode(2)
                } else {
                    AmqpProperties::default()
                };
                let (from, to) = (
                    c.messages * p / c.producers,
                    c.messages * (p + 1) / c.producers,
                );
                let mut body = vec![0u8; c.size.max(16)];
                let mut confirmed = 0u64; // highest tag covered by acks (RabbitMQ acks in order)
                for seq in from..to {
                    body[..8].copy_from_slice(&seq.to_le_bytes());
                    body[8..16].copy_from_slice(&nanos(epoch).to_le_bytes());
                    exchange.publish(Publish::with_properties(
                        &body,
                        queue.as_str(),
                        properties.clone(),
                    ))?;
                    if let Some(rx) = &confirms {
                        while let Ok(Confirm::Ack(p) | Confirm::Nack(p)) = rx.try_recv() {
                            confirmed = confirmed.max(p.delivery_tag);
                        }
                    }
                }
                if let Some(rx) = &confirms {
                    while confirmed < to - from {
                        match rx.recv_timeout(Duration::from_mins(1)) {
                            Ok(Confirm::Ack(p) | Confirm::Nack(p)) => {
                                confirmed = confirmed.max(p.delivery_tag);
                            }
                            Err(_) => break,
                        }
                    }
                }
                // Published = the broker has read every message: the close handshake comes after.
                conn.close()?;
                Ok(nanos(epoch))
            },
        ));
    }
    let mut published = start;
    for p in producers {
        published = published.max(p.join().expect("producer")?);
    }
    for c in consumers {
        c.join().expect("consumer")?;
    }
    admin_channel.queue_delete(queue.as_str(), QueueDeleteOptions::default())?;
    admin.close()?;
    let lost = seen.iter().filter(|s| !s.load(Ordering::Relaxed)).count();
    let rate = |end: u64| c.messages as f64 / ((end - start) as f64 / 1e9);
    let h = hist.lock().unwrap();
    println!(
        "{{\"publish_per_s\":{:.0},\"consume_per_s\":{:.0},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"lost\":{lost}}}",
        rate(published),
        rate(last.load(Ordering::Relaxed)),
        h.value_at_quantile(0.5) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0,
    );
    Ok(())
}
