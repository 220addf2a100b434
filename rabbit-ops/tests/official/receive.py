#!/usr/bin/env python3
"""Tutorial 1 consumer ("Hello World!"): our Python 3 version of the official receive.py.

Declares the durable quorum queue `hello`, consumes with automatic acknowledgement and prints
each body. Test overrides (environment only): TUTORIAL_AMQP_URL, TUTORIAL_QUEUE,
TUTORIAL_MAX_MESSAGES (exit 0 after that many deliveries).
"""
import os
import sys

import pika

import tutorial_env

def main():
    queue = tutorial_env.queue("hello")

    connection = pika.BlockingConnection(tutorial_env.connection_parameters())
    channel = connection.channel()

    channel.queue_declare(queue=queue, durable=True, arguments={"x-queue-type": "quorum"})

    def on_message(ch, method, properties, body):
        print(f" [x] Received {body.decode()}", flush=True)

    channel.basic_consume(
        queue=queue, on_message_callback=tutorial_env.counted(on_message), auto_ack=True
    )

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
