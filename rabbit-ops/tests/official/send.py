#!/usr/bin/env python3
"""Tutorial 1 producer ("Hello World!"): our Python 3 version of the official send.py.

Declares the durable quorum queue `hello` and publishes one message, "Hello World!", through the
default exchange. Test overrides (environment only): TUTORIAL_AMQP_URL, TUTORIAL_QUEUE.
"""
import pika

import tutorial_env

queue = tutorial_env.queue("hello")

connection = pika.BlockingConnection(tutorial_env.connection_parameters())
channel = connection.channel()

channel.queue_declare(queue=queue, durable=True, arguments={"x-queue-type": "quorum"})

channel.basic_publish(exchange="", routing_key=queue, body="Hello World!")
print(" [x] Sent 'Hello World!'", flush=True)

connection.close()
