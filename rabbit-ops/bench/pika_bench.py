#!/usr/bin/env python3
"""The pika reference for `rabbit-ops bench`: the same workload with pika's BlockingConnection
(the client of the notes and of the RabbitMQ tutorials), one thread and one connection per
producer and per consumer. Prints the same JSON object as `rabbit-ops bench --json`.

    python3 pika_bench.py --messages 20000 [--size 100] [--producers 1] [--consumers 1]
        [--persistent] [--confirm] [--prefetch 500] [--url amqp://guest:guest@127.0.0.1:5672/%2f]

Bodies start with the sequence number and the publish time (nanoseconds since the start of the
run, little-endian u64 each), padded to --size. Consumers ack with multiple=True every
prefetch/4 messages, as rabbit-ops does.
"""
import argparse
import json
import os
import struct
import threading
import time

import pika

p = argparse.ArgumentParser()
p.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/%2f")
p.add_argument("--messages", type=int, default=100000)
p.add_argument("--size", type=int, default=100)
p.add_argument("--producers", type=int, default=1)
p.add_argument("--consumers", type=int, default=1)
p.add_argument("--prefetch", type=int, default=500)
p.add_argument("--persistent", action="store_true")
p.add_argument("--confirm", action="store_true")
p.add_argument("--json", action="store_true")
a = p.parse_args()

HEADER = struct.Struct("<QQ")
queue = "pika-bench-%d" % os.getpid()
params = pika.URLParameters(a.url)
epoch = time.monotonic_ns()
seen = bytearray(a.messages)
lock = threading.Lock()
state = {"received": 0, "last": 0}
latencies = []
ready = threading.Barrier(a.consumers + 1)
ack_every = max(1, a.prefetch // 4)

admin = pika.BlockingConnection(params)
admin_ch = admin.channel()
admin_ch.queue_declare(queue, durable=a.persistent)


def consume():
    conn = pika.BlockingConnection(params)
    ch = conn.channel()
    ch.basic_qos(prefetch_count=a.prefetch)
    ch.queue_declare(queue, durable=a.persistent)
    local = []
    since_ack = 0
    ready.wait()
    for method, _props, body in ch.consume(queue, inactivity_timeout=0.1):
        if method is None:
            with lock:
                if state["received"] >= a.messages:
                    break
            continue
        now = time.monotonic_ns() - epoch
        seq, sent = HEADER.unpack_from(body)
        local.append(now - sent)
        since_ack += 1
        with lock:
            seen[seq] = 1
            state["received"] += 1
            state["last"] = max(state["last"], now)
            total = state["received"]
        if since_ack >= ack_every or total >= a.messages:
            since_ack = 0
            ch.basic_ack(method.delivery_tag, multiple=True)
        if total >= a.messages:
            break
    ch.cancel()
    with lock:
        latencies.extend(local)
    conn.close()


def produce(p, out):
    conn = pika.BlockingConnection(params)
    ch = conn.channel()
    if a.confirm:
        ch.confirm_delivery()  # each basic_publish then waits for its confirm
    props = pika.BasicProperties(delivery_mode=2) if a.persistent else None
    pad = bytes(max(0, a.size - HEADER.size))
    lo, hi = a.messages * p // a.producers, a.messages * (p + 1) // a.producers
    for seq in range(lo, hi):
        body = HEADER.pack(seq, time.monotonic_ns() - epoch) + pad
        ch.basic_publish("", queue, body, props)
    conn.close()  # published = the broker has read every message: close comes after
    out[p] = time.monotonic_ns() - epoch


consumers = [threading.Thread(target=consume) for _ in range(a.consumers)]
for t in consumers:
    t.start()
ready.wait()
start = time.monotonic_ns() - epoch
ends = [start] * a.producers
producers = [threading.Thread(target=produce, args=(i, ends)) for i in range(a.producers)]
for t in producers:
    t.start()
for t in producers + consumers:
    t.join()
admin_ch.queue_delete(queue)
admin.close()

latencies.sort()


def pct(q):
    if not latencies:
        return 0.0
    return latencies[min(len(latencies) - 1, int(q * len(latencies)))] / 1e6


def rate(end):
    return a.messages / ((end - start) / 1e9)


print(json.dumps({
    "publish_per_s": round(rate(max(ends))),
    "consume_per_s": round(rate(state["last"])),
    "p50_ms": round(pct(0.50), 3),
    "p99_ms": round(pct(0.99), 3),
    "lost": a.messages - sum(seen),
}, separators=(",", ":")))
