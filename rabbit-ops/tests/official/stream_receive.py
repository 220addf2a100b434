#!/usr/bin/env python3
"""Stream tutorial 1 consumer: our Python 3 copy of the official python-stream/receive.py.

Creates the stream hello-python-stream if need be, reads it from its first message and prints
"Got message: <msg> from stream <stream>" for each (msg as rstream hands it: the raw bytes of
the message, no decoder), until Ctrl-C. Two fixes (see README.md): the stream is declared with
max-length-bytes (the official one says MaxLengthBytes, which a 3.10 broker refuses once send.py
declared the stream), and the stream name comes from message_context.stream (rstream 1.x has no
consumer.get_stream()). Test overrides: TUTORIAL_STREAM_URL, TUTORIAL_STREAM,
TUTORIAL_MAX_MESSAGES.
"""
import asyncio
import signal

from rstream import (
    AMQPMessage,
    Consumer,
    ConsumerOffsetSpecification,
    MessageContext,
    OffsetType,
)

import stream_env

STREAM_NAME = stream_env.stream("hello-python-stream")
# 5GB
STREAM_RETENTION = 5000000000
LIMIT = stream_env.max_messages()
seen = 0


async def receive():
    consumer = Consumer(**stream_env.connection())
    await consumer.create_stream(
        STREAM_NAME, exists_ok=True, arguments={"max-length-bytes": STREAM_RETENTION}
    )

    loop = asyncio.get_event_loop()
    loop.add_signal_handler(
        signal.SIGINT, lambda: asyncio.create_task(consumer.close())
    )

    async def on_message(msg: AMQPMessage, message_context: MessageContext):
        global seen
        stream = message_context.stream
        print("Got message: {} from stream {}".format(msg, stream), flush=True)
        seen += 1
        if LIMIT is not None and seen >= LIMIT:
            await consumer.close()

    print("Press control +C to close", flush=True)
    await consumer.start()
    await consumer.subscribe(
        stream=STREAM_NAME,
        callback=on_message,
        offset_specification=ConsumerOffsetSpecification(OffsetType.FIRST, None),
    )
    await consumer.run()
    # give time to the consumer task to close the consumer
    await asyncio.sleep(1)


asyncio.run(receive())
