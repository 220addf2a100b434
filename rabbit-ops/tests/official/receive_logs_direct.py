#!/usr/bin/env python3
"""Tutorial 4 consumer (routing): our Python 3 version of the official receive_logs_direct.py.

Declares the direct exchange `direct_logs` and a server-named exclusive queue bound once per
severity given on the command line (at least one, else usage on stderr and exit 1), and prints
` [x] <routing key>:<repr of the body bytes>` as the official program does, e.g.
` [x] error:b'Run. Run.'`. Test overrides (environment only): TUTORIAL_AMQP_URL,
TUTORIAL_EXCHANGE, TUTORIAL_MAX_MESSAGES (exit 0 after that many deliveries).
"""
import sys

import pika

import tutorial_env

exchange = tutorial_env.exchange("direct_logs")

connection = pika.BlockingConnection(tutorial_env.connection_parameters())
channel = connection.channel()

channel.exchange_declare(exchange=exchange, exchange_type="direct")

result = channel.queue_declare(queue="", exclusive=True)
queue_name = result.method.queue

severities = sys.argv[1:]
if not severities:
    sys.stderr.write("Usage: %s [info] [warning] [error]\n" % sys.argv[0])
    sys.exit(1)

for severity in severities:
    channel.queue_bind(exchange=exchange, queue=queue_name, routing_key=severity)

print(" [*] Waiting for logs. To exit press CTRL+C", flush=True)


def on_log(ch, method, properties, body):
    print(f" [x] {method.routing_key}:{body}", flush=True)


channel.basic_consume(
    queue=queue_name, on_message_callback=tutorial_env.counted(on_log), auto_ack=True
)

channel.start_consuming()
connection.close()
