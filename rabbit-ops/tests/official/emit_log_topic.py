#!/usr/bin/env python3
"""Tutorial 5 producer (topics): our Python 3 version of the official emit_log_topic.py.

Declares the topic exchange `topic_logs` and publishes the remaining words (default
"Hello World!") with routing key argv[1]. As in the official program, argv[1] is used only when
there are at least two arguments: with one argument or none the key is "anonymous.info" (and a
lone argument is therefore ignored). Test overrides (environment only): TUTORIAL_AMQP_URL,
TUTORIAL_EXCHANGE.
"""
import sys

import pika

import tutorial_env

exchange = tutorial_env.exchange("topic_logs")

connection = pika.BlockingConnection(tutorial_env.connection_parameters())
channel = connection.channel()

channel.exchange_declare(exchange=exchange, exchange_type="topic")

routing_key = sys.argv[1] if len(sys.argv) > 2 else "anonymous.info"
message = " ".join(sys.argv[2:]) or "Hello World!"
channel.basic_publish(exchange=exchange, routing_key=routing_key, body=message)
print(f" [x] Sent {routing_key}:{message}", flush=True)
connection.close()
