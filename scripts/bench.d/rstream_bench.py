#!/usr/bin/env python3
"""The stream bench of scripts/bench.d/stream.sh with rstream, the official Python stream client
(run from scripts/rstream-venv's python): the workload of `rabbit-ops bench --stream`.

A fresh stream (rstream-bench-<pid>-<ns>), one consumer subscribed from its first offset before
anything is published, one producer publishing --messages bodies of --size bytes (sequence number
and publish time, little-endian u64 each, zero padding), each confirmed by the broker. Prints one
JSON object: publish_per_s (confirmed messages per second), consume_per_s (from the first publish
to the last delivery), p50_ms and p99_ms (publish to delivery), lost, duplicates. The stream is
deleted at the end, also after a failure or Ctrl-C. Exit 1 when a message is lost or refused.

Usage: rstream_bench.py [--url rabbitmq-stream://guest:guest@127.0.0.1:5552/%2f]
                        [--messages 30000] [--size 100]
"""
import argparse
import asyncio
import json
import os
import struct
import sys
import time
from urllib.parse import unquote, urlsplit

from rstream import ConfirmationStatus, Consumer, ConsumerOffsetSpecification, OffsetType, Producer

IN_FLIGHT = 10_000  # as rabbit-ops' bench: the most messages waiting for their confirm
IDLE_S = 10.0  # no delivery for this long: what is missing is lost
HEADER = 16


def connection(url):
    u = urlsplit(url)
    return {
        "host": u.hostname or "127.0.0.1",
        "port": u.port or 5552,
        "username": unquote(u.username or "guest"),
        "password": unquote(u.password or "guest"),
        "vhost": unquote(u.path[1:]) if len(u.path) > 1 else "/",
    }


def percentile(sorted_us, q):
    if not sorted_us:
        return 0.0
    return sorted_us[min(len(sorted_us) - 1, int(q * len(sorted_us)))] / 1000.0


async def bench(url, n, size):
    conn = connection(url)
    stream = "rstream-bench-{}-{:x}".format(os.getpid(), time.time_ns() % 2**32)
    producer = Producer(**conn)
    consumer = Consumer(**conn)
    await producer.start()
    room = max(n * (size + 64), 1_000_000) * 2
    await producer.create_stream(stream, arguments={"max-length-bytes": room})
    try:
        return await measure(producer, consumer, stream, n, size)
    finally:
        try:
            await consumer.close()
        finally:
            await producer.delete_stream(stream, missing_ok=True)
            await producer.close()


async def measure(producer, consumer, stream, n, size):
    epoch = time.monotonic_ns()
    seen = bytearray(n)
    latencies_us = []
    state = {"distinct": 0, "received": 0, "duplicates": 0, "last": 0, "confirmed": 0, "refused": 0}
    all_received = asyncio.Event()
    window = asyncio.Semaphore(IN_FLIGHT)
    pad = bytes(max(size, HEADER) - HEADER)

    async def on_message(msg, _context):
        now = time.monotonic_ns() - epoch
        body = bytes(msg)
        if len(body) < HEADER:
            return
        seq, sent = struct.unpack_from("<QQ", body)
        state["received"] += 1
        state["last"] = now
        latencies_us.append(max(1, (now - sent + 999) // 1000))
        if seq < n and not seen[seq]:
            seen[seq] = 1
            state["distinct"] += 1
            if state["distinct"] == n:
                all_received.set()
        else:
            state["duplicates"] += 1

    async def on_confirm(confirmation: ConfirmationStatus):
        state["confirmed" if confirmation.is_confirmed else "refused"] += 1
        window.release()

    await consumer.start()
    await consumer.subscribe(
        stream=stream,
        callback=on_message,
        offset_specification=ConsumerOffsetSpecification(OffsetType.FIRST, None),
    )
    epoch = time.monotonic_ns()
    for seq in range(n):
        await window.acquire()
        body = struct.pack("<QQ", seq, time.monotonic_ns() - epoch) + pad
        await producer.send(stream=stream, message=body, on_publish_confirm=on_confirm)
    for _ in range(IN_FLIGHT):  # every permit back: every message confirmed or refused
        await asyncio.wait_for(window.acquire(), timeout=30)
    publish_s = max((time.monotonic_ns() - epoch) / 1e9, 1e-9)
    while not all_received.is_set():
        before = state["received"]
        try:
            await asyncio.wait_for(all_received.wait(), timeout=IDLE_S)
        except asyncio.TimeoutError:
            if state["received"] == before:
                break
    latencies_us.sort()
    return {
        "publish_per_s": round(n / publish_s),
        "consume_per_s": round(state["received"] / max(state["last"] / 1e9, 1e-9)),
        "p50_ms": percentile(latencies_us, 0.5),
        "p99_ms": percentile(latencies_us, 0.99),
        "lost": n - state["distinct"],
        "duplicates": state["duplicates"],
        "refused": state["refused"],
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=os.environ.get(
        "RABBITMQ_STREAM_URL", "rabbitmq-stream://guest:guest@127.0.0.1:5552/%2f"))
    p.add_argument("--messages", type=int, default=30000)
    p.add_argument("--size", type=int, default=100)
    a = p.parse_args()
    if not 1 <= a.messages <= 10_000_000 or not HEADER <= a.size <= 1_000_000:
        p.error("--messages 1 to 10000000, --size 16 to 1000000")
    try:
        report = asyncio.run(bench(a.url, a.messages, a.size))
    except KeyboardInterrupt:
        print("error: rstream_bench: interrupted (stream deleted)", file=sys.stderr)
        sys.exit(130)
    print(json.dumps(report, separators=(",", ":")), flush=True)
    sys.exit(1 if report["lost"] or report["refused"] else 0)


if __name__ == "__main__":
    main()
