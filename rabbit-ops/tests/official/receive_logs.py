#!/usr/bin/env python3
"""Tutorial 3 consumer (publish/subscribe): our Python 3 version of the official receive_logs.py.

Declares the fanout exchange `logs`, a server-named exclusive queue bound to it, and prints each
body as the official program does: the Python repr of the bytes, ` [x] b'info: Hello World!'`.
Test overrides (environment only): TUTORIAL_AMQP_URL, TUTORIAL_EXCHANGE, TUTORIAL_MAX_MESSAGES
(exit 0 after that many deliveries).
"""
import pika

import tutorial_env

exchange = tutorial_env.exchange("logs")

connection = pika.BlockingConnection(tutorial_env.connection_parameters())
channel = connection.channel()

channel.exchange_declare(exchange=exchange, exchange_type="fanout")

result = channel.queue_declare(queue="", exclusive=True)
queue_name = result.method.queue

channel.queue_bind(exchange=exchange, queue=queue_name)

print(" [*] Waiting for logs. To exit press CTRL+C", flush=True)


def on_log(ch, method, properties, body):
    print(f" [x] {body}", flush=True)


channel.basic_consume(
    queue=queue_name, on_message_callback=tutorial_env.counted(on_log), auto_ack=True
)

channel.start_consuming()
connection.close()
