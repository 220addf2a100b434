#!/usr/bin/env python3
"""Tutorial 1 consumer ("Hello World!"): our Python 3 version of the official receive.py.

Declares the durable quorum queue `hello`, consumes with automatic acknowledgement and prints
each body. Test overrides (environment only): TUTORIAL_AMQP_URL, TUTORIAL_QUEUE,
TUTORIAL_MAX_MESSAGES (exit 0 after that many deliveries).
"""
import os
import sys

import pika


def connection_parameters():
    url = os.environ.get("TUTORIAL_AMQP_URL")
    return pika.URLParameters(url) if url else pika.ConnectionParameters(host="localhost")


def max_messages():
    value = os.environ.get("TUTORIAL_MAX_MESSAGES")
    return int(value) if value else None


def main():
    queue = os.environ.get("TUTORIAL_QUEUE") or "hello"
    limit = max_messages()
    seen = 0

    connection = pika.BlockingConnection(connection_parameters())
    channel = connection.channel()

    channel.queue_declare(queue=queue, durable=True, arguments={"x-queue-type": "quorum"})

    def on_message(ch, method, properties, body):
        nonlocal seen
        print(f" [x] Received {body.decode()}", flush=True)
        seen += 1
        if limit is not None and seen >= limit:
            ch.stop_consuming()

    channel.basic_consume(queue=queue, on_message_callback=on_message, auto_ack=True)

    print(" [*] Waiting for messages. To exit press CTRL+C", flush=True)
    channel.start_consuming()
    connection.close()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("Interrupted", flush=True)
        try:
            sys.exit(0)
        except SystemExit:
            os._exit(0)
