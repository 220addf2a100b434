#!/usr/bin/env python3
"""Tutorial 5 consumer (topics): our Python 3 version of the official receive_logs_topic.py.

Declares the topic exchange `topic_logs` and a server-named exclusive queue bound once per binding
key given on the command line (at least one, else usage on stderr and exit 1), and prints
` [x] <routing key>:<repr of the body bytes>` as the official program does, e.g.
` [x] kern.critical:b'A critical kernel error'`. Test overrides (environment only):
TUTORIAL_AMQP_URL, TUTORIAL_EXCHANGE, TUTORIAL_MAX_MESSAGES (exit 0 after that many deliveries).
"""
import sys

import pika

import tutorial_env

exchange = tutorial_env.exchange("topic_logs")

connection = pika.BlockingConnection(tutorial_env.connection_parameters())
channel = connection.channel()

channel.exchange_declare(exchange=exchange, exchange_type="topic")

result = channel.queue_declare("", exclusive=True)
queue_name = result.method.queue

binding_keys = sys.argv[1:]
if not binding_keys:
    sys.stderr.write("Usage: %s [binding_key]...\n" % sys.argv[0])
    sys.exit(1)

for binding_key in binding_keys:
    channel.queue_bind(exchange=exchange, queue=queue_name, routing_key=binding_key)

print(" [*] Waiting for logs. To exit press CTRL+C", flush=True)


def on_log(ch, method, properties, body):
    print(f" [x] {method.routing_key}:{body}", flush=True)


channel.basic_consume(
    queue=queue_name, on_message_callback=tutorial_env.counted(on_log), auto_ack=True
)

channel.start_consuming()
connection.close()
