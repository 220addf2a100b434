#!/usr/bin/env python3
"""Tutorial 2 producer (work queues): our Python 3 version of the official new_task.py.

Declares the durable quorum queue `task_queue` and publishes the command-line words (default
"Hello World!") as one persistent message (delivery_mode 2). Test overrides (environment only):
TUTORIAL_AMQP_URL, TUTORIAL_QUEUE.
"""
import sys

import pika

import tutorial_env

queue = tutorial_env.queue("task_queue")

connection = pika.BlockingConnection(tutorial_env.connection_parameters())
channel = connection.channel()

channel.queue_declare(queue=queue, durable=True, arguments={"x-queue-type": "quorum"})

message = " ".join(sys.argv[1:]) or "Hello World!"
channel.basic_publish(
    exchange="",
    routing_key=queue,
    body=message,
    properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent),
)
print(f" [x] Sent {message}", flush=True)

connection.close()
