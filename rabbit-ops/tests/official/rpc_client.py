#!/usr/bin/env python3
"""Tutorial 6 client (RPC): our Python 3 version of the official rpc_client.py.

Declares a server-named exclusive reply queue, consumes it with automatic acknowledgement,
publishes str(n) to `rpc_queue` through the default exchange with reply_to (the reply queue) and
correlation_id (a fresh uuid4), waits for the reply with that correlation_id and prints it read
as an integer (a reply that is not an integer ends it with a ValueError traceback, as in the
official program). The official program always asks fib(30); ours takes n from argv[1] (passed
as is, default 30). Test overrides (environment only): TUTORIAL_AMQP_URL, TUTORIAL_QUEUE.
"""
import sys
import uuid

import pika

import tutorial_env

class FibonacciRpcClient:
    def __init__(self, rpc_queue):
        self.rpc_queue = rpc_queue
        self.connection = pika.BlockingConnection(tutorial_env.connection_parameters())

        self.channel = self.connection.channel()

        result = self.channel.queue_declare(queue="", exclusive=True)
        self.callback_queue = result.method.queue

        self.channel.basic_consume(
            queue=self.callback_queue,
            on_message_callback=self.on_response,
            auto_ack=True,
        )

        self.response = None
        self.corr_id = None

    def on_response(self, ch, method, props, body):
        if self.corr_id == props.correlation_id:
            self.response = body

    def call(self, n):
        self.response = None
        self.corr_id = str(uuid.uuid4())
        self.channel.basic_publish(
            exchange="",
            routing_key=self.rpc_queue,
            properties=pika.BasicProperties(
                reply_to=self.callback_queue,
                correlation_id=self.corr_id,
            ),
            body=str(n),
        )
        while self.response is None:
            self.connection.process_data_events(time_limit=None)
        return int(self.response)


n = sys.argv[1] if len(sys.argv) > 1 else 30

fibonacci_rpc = FibonacciRpcClient(tutorial_env.queue("rpc_queue"))

print(f" [x] Requesting fib({n})", flush=True)
response = fibonacci_rpc.call(n)
print(f" [.] Got {response}", flush=True)
