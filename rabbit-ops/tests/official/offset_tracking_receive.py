#!/usr/bin/env python3
"""Stream tutorial 2 consumer: our Python 3 copy of the official offset_tracking_receive.py.

A consumer named subscriber_1 asks for its stored offset, resumes after it (from 0 without one),
stores its offset every 10 messages and at the marker, where it closes and prints "Done
consuming first_offset: N last_offset M ". One fix (see README.md): the stream comes from
message_context.stream (rstream 1.x has no consumer.get_stream()). Test overrides:
TUTORIAL_STREAM_URL, TUTORIAL_STREAM, TUTORIAL_CONSUMER.
"""
import asyncio

from rstream import (
    AMQPMessage,
    Consumer,
    ConsumerOffsetSpecification,
    MessageContext,
    OffsetNotFound,
    OffsetType,
    ServerError,
    amqp_decoder,
)

import stream_env

message_count = -1
first_offset = -1
last_offset = -1
STREAM_NAME = stream_env.stream("stream-offset-tracking-python")
SUBSCRIBER = stream_env.consumer("subscriber_1")
# 2GB
STREAM_RETENTION = 2000000000


async def on_message(msg: AMQPMessage, message_context: MessageContext):
    global message_count
    global first_offset
    global last_offset

    offset = message_context.offset
    if first_offset == -1:
        print("First message received", flush=True)
        first_offset = offset

    consumer = message_context.consumer
    stream = message_context.stream

    # store the offset after every 10 messages received
    message_count = message_count + 1

    if message_count % 10 == 0:
        await consumer.store_offset(
            stream=stream,
            offset=offset,
            subscriber_name=message_context.subscriber_name,
        )

    if "marker" in str(msg):
        await consumer.store_offset(
            stream=stream,
            offset=offset,
            subscriber_name=message_context.subscriber_name,
        )
        last_offset = offset
        await consumer.close()


async def consume():
    stored_offset = -1
    global first_offset
    global last_offset

    consumer = Consumer(**stream_env.connection(port=5552))

    await consumer.create_stream(
        STREAM_NAME, exists_ok=True, arguments={"max-length-bytes": STREAM_RETENTION}
    )

    try:
        await consumer.start()
        print("Started consuming: Press control +C to close", flush=True)
        try:
            # will raise an exception if store_offset wasn't invoked before
            stored_offset = await consumer.query_offset(
                stream=STREAM_NAME, subscriber_name=SUBSCRIBER
            )
        except OffsetNotFound as offset_exception:
            print(f"Offset not previously stored. {offset_exception}", flush=True)

        except ServerError as server_error:
            print(f"Server error: {server_error}", flush=True)
            exit(1)

        # if no offset was previously stored start from the first offset
        stored_offset = stored_offset + 1
        await consumer.subscribe(
            stream=STREAM_NAME,
            subscriber_name=SUBSCRIBER,
            callback=on_message,
            decoder=amqp_decoder,
            offset_specification=ConsumerOffsetSpecification(
                OffsetType.OFFSET, stored_offset
            ),
        )
        await consumer.run()

    except (KeyboardInterrupt, asyncio.exceptions.CancelledError):
        await consumer.close()

    # give time to the consumer task to close the consumer
    await asyncio.sleep(1)

    if first_offset != -1:
        print(
            "Done consuming first_offset: {} last_offset {} ".format(
                first_offset, last_offset
            ),
            flush=True,
        )


with asyncio.Runner() as runner:
    runner.run(consume())
