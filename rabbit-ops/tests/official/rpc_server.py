#!/usr/bin/env python3
"""Tutorial 6 server (RPC): our Python 3 version of the official rpc_server.py.

Declares the durable quorum queue `rpc_queue`, takes one request at a time (prefetch 1), reads
the body as an integer n, prints ` [.] fib(n)`, and publishes str(fib(n)) through the default
exchange to the request's reply_to with the request's correlation_id (no other property), then
acknowledges. fib is the official naive recursion, which is exponential: fib(30) takes a moment,
fib(40) minutes. Test overrides (environment only): TUTORIAL_AMQP_URL, TUTORIAL_QUEUE,
TUTORIAL_MAX_MESSAGES (exit 0 after that many requests), TUTORIAL_FAST_FIB=1 (the same answers
computed in a loop, so that large n answer at once; n up to about 20,000, where str() of the
answer reaches Python's 4,300-digit limit).
"""

import pika

import tutorial_env

def fib(n):
    if n == 0:
        return 0
    elif n == 1:
        return 1
    else:
        return fib(n - 1) + fib(n - 2)


fib = tutorial_env.fib(fib)  # TUTORIAL_FAST_FIB=1: the same answers in linear time

queue = tutorial_env.queue("rpc_queue")

connection = pika.BlockingConnection(tutorial_env.connection_parameters())
channel = connection.channel()

channel.queue_declare(queue=queue, durable=True, arguments={"x-queue-type": "quorum"})


def on_request(ch, method, props, body):
    n = int(body)

    print(f" [.] fib({n})", flush=True)
    response = fib(n)

    ch.basic_publish(
        exchange="",
        routing_key=props.reply_to,
        properties=pika.BasicProperties(correlation_id=props.correlation_id),
        body=str(response),
    )
    ch.basic_ack(delivery_tag=method.delivery_tag)


channel.basic_qos(prefetch_count=1)
channel.basic_consume(queue=queue, on_message_callback=tutorial_env.counted(on_request))

print(" [x] Awaiting RPC requests", flush=True)
channel.start_consuming()
connection.close()
