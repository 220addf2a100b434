#!/usr/bin/env python3
"""Tutorial 3 consumer (publish/subscribe): our Python 3 version of the official receive_logs.py.

Declares the fanout exchange `logs`, a server-named exclusive queue bound to it, and prints each
body as the official program does: the Python repr of the bytes, ` [x] b'info: Hello World!'`.
Test overrides (environment only): TUTORIAL_AMQP_URL, TUTORIAL_EXCHANGE, TUTORIAL_MAX_MESSAGES
(exit 0 after that many deliveries).
"""
import os

import pika


def connection_parameters():
    url = os.environ.get("TUTORIAL_AMQP_URL")
    return pika.URLParameters(url) if url else pika.ConnectionParameters(host="localhost")


def max_messages():
    value = os.environ.get("TUTORIAL_MAX_MESSAGES")
    return int(value) if value else None


exchange = os.environ.get("TUTORIAL_EXCHANGE") or "logs"
limit = max_messages()
seen = 0

connection = pika.BlockingConnection(connection_parameters())
channel = connection.channel()

channel.exchange_declare(exchange=exchange, exchange_type="fanout")

result = channel.queue_declare(queue="", exclusive=True)
queue_name = result.method.queue

channel.queue_bind(exchange=exchange, queue=queue_name)

print(" [*] Waiting for logs. To exit press CTRL+C", flush=True)


def on_log(ch, method, properties, body):
    global seen
    print(f" [x] {body}", flush=True)
    seen += 1
    if limit is not None and seen >= limit:
        ch.stop_consuming()


channel.basic_consume(queue=queue_name, on_message_callback=on_log, auto_ack=True)

channel.start_consuming()
connection.close()
