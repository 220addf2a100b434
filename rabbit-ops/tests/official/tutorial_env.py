"""What we added to the tutorial programs, written once; each program imports it.

Everything here is off by default, so that a program run without these variables behaves as the
official one:

- TUTORIAL_AMQP_URL: the broker, as an AMQP URL (default: localhost with pika's defaults);
- TUTORIAL_QUEUE, TUTORIAL_EXCHANGE: the queue or exchange name instead of the tutorial's;
- TUTORIAL_MAX_MESSAGES=N: a consumer stops consuming (then closes and exits 0) after the N-th
  delivery has been handled;
- TUTORIAL_FAST_FIB=1: rpc_server's fib computed in a loop (the same answers in linear time).
"""
import os

import pika


def connection_parameters():
    """TUTORIAL_AMQP_URL, else the official programs' `localhost`."""
    url = os.environ.get("TUTORIAL_AMQP_URL")
    return pika.URLParameters(url) if url else pika.ConnectionParameters(host="localhost")


def queue(default):
    """TUTORIAL_QUEUE, else the tutorial's queue."""
    return os.environ.get("TUTORIAL_QUEUE") or default


def exchange(default):
    """TUTORIAL_EXCHANGE, else the tutorial's exchange."""
    return os.environ.get("TUTORIAL_EXCHANGE") or default


def max_messages():
    value = os.environ.get("TUTORIAL_MAX_MESSAGES")
    return int(value) if value else None


def counted(callback):
    """The consumer's callback, which stops consuming after TUTORIAL_MAX_MESSAGES deliveries."""
    limit = max_messages()
    seen = 0

    def on_message(ch, method, properties, body):
        nonlocal seen
        callback(ch, method, properties, body)
        seen += 1
        if limit is not None and seen >= limit:
            ch.stop_consuming()

    return on_message


def fast_fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def fib(official):
    """With TUTORIAL_FAST_FIB=1, the same answers as the official recursion in linear time (n up
    to about 20,000, where str() of the answer reaches Python's 4,300-digit limit)."""
    return fast_fib if os.environ.get("TUTORIAL_FAST_FIB") == "1" else official
