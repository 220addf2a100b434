#!/usr/bin/env python3
"""Tutorial 4 producer (routing): our Python 3 version of the official emit_log_direct.py.

Declares the direct exchange `direct_logs` and publishes with the severity argv[1] (default
"info", used whenever there is at least one argument) as routing key and the remaining words
(default "Hello World!") as body. Test overrides (environment only): TUTORIAL_AMQP_URL,
TUTORIAL_EXCHANGE.
"""
import sys

import pika

import tutorial_env

exchange = tutorial_env.exchange("direct_logs")

connection = pika.BlockingConnection(tutorial_env.connection_parameters())
channel = connection.channel()

channel.exchange_declare(exchange=exchange, exchange_type="direct")

severity = sys.argv[1] if len(sys.argv) > 1 else "info"
message = " ".join(sys.argv[2:]) or "Hello World!"
channel.basic_publish(exchange=exchange, routing_key=severity, body=message)
print(f" [x] Sent {severity}:{message}", flush=True)
connection.close()
