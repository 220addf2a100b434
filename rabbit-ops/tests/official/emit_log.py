#!/usr/bin/env python3
"""Tutorial 3 producer (publish/subscribe): our Python 3 version of the official emit_log.py.

Declares the fanout exchange `logs` and publishes the command-line words (default
"info: Hello World!") with an empty routing key. Test overrides (environment only):
TUTORIAL_AMQP_URL, TUTORIAL_EXCHANGE.
"""
import sys

import pika

import tutorial_env

exchange = tutorial_env.exchange("logs")

connection = pika.BlockingConnection(tutorial_env.connection_parameters())
channel = connection.channel()

channel.exchange_declare(exchange=exchange, exchange_type="fanout")

message = " ".join(sys.argv[1:]) or "info: Hello World!"
channel.basic_publish(exchange=exchange, routing_key="", body=message)
print(f" [x] Sent {message}", flush=True)
connection.close()
