#!/usr/bin/env python3
"""Tutorial 2 consumer (work queues): our Python 3 version of the official worker.py.

Declares the durable quorum queue `task_queue`, takes one task at a time (prefetch 1), sleeps one
second per "." in the body, then acknowledges. Test overrides (environment only):
TUTORIAL_AMQP_URL, TUTORIAL_QUEUE, TUTORIAL_MAX_MESSAGES (exit 0 after that many tasks).
"""
import time

import pika

import tutorial_env

queue = tutorial_env.queue("task_queue")

connection = pika.BlockingConnection(tutorial_env.connection_parameters())
channel = connection.channel()

channel.queue_declare(queue=queue, durable=True, arguments={"x-queue-type": "quorum"})
print(" [*] Waiting for messages. To exit press CTRL+C", flush=True)


def on_task(ch, method, properties, body):
    print(f" [x] Received {body.decode()}", flush=True)
    time.sleep(body.count(b"."))
    print(" [x] Done", flush=True)
    ch.basic_ack(delivery_tag=method.delivery_tag)


channel.basic_qos(prefetch_count=1)
channel.basic_consume(queue=queue, on_message_callback=tutorial_env.counted(on_task))

channel.start_consuming()
connection.close()
