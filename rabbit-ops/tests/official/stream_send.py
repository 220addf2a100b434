#!/usr/bin/env python3
"""Stream tutorial 1 producer: our Python 3 copy of the official python-stream/send.py.

Creates the stream hello-python-stream (max-length-bytes 5 GB) if need be, sends one message,
prints " [x] Hello, World! message sent", then waits for Enter before closing. One change (see
README.md): the message is an AMQP 1.0 message (AMQPMessage), not raw bytes. Test overrides
(environment only): TUTORIAL_STREAM_URL, TUTORIAL_STREAM.
"""
import asyncio

from rstream import AMQPMessage, Producer

import stream_env

STREAM_NAME = stream_env.stream("hello-python-stream")
# 5GB
STREAM_RETENTION = 5000000000


async def send():
    async with Producer(**stream_env.connection()) as producer:
        await producer.create_stream(
            STREAM_NAME, exists_ok=True, arguments={"max-length-bytes": STREAM_RETENTION}
        )

        await producer.send(stream=STREAM_NAME, message=AMQPMessage(body=b"Hello, World!"))

        print(" [x] Hello, World! message sent", flush=True)

        input(" [x] Press Enter to close the producer  ...")

with asyncio.Runner() as runner:
    runner.run(send())
