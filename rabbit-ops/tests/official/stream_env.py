"""What we added to the stream tutorial programs (python-stream/), written once; each imports it.

Everything here is off by default, so that a program run without these variables behaves as the
official one (localhost:5552, guest/guest, the tutorial's stream and subscriber names):

- TUTORIAL_STREAM_URL: the broker, as rabbitmq-stream://user:password@host:port/vhost;
- TUTORIAL_STREAM: the stream name instead of the tutorial's;
- TUTORIAL_CONSUMER: offset_tracking_receive's subscriber name instead of subscriber_1;
- TUTORIAL_MAX_MESSAGES=N: receive.py closes its consumer after the N-th message.
"""
import os
from urllib.parse import unquote, urlsplit


def connection(host="localhost", port=5552, username="guest", password="guest"):
    """The keyword arguments of Producer/Consumer: TUTORIAL_STREAM_URL, else the tutorial's."""
    url = os.environ.get("TUTORIAL_STREAM_URL")
    if not url:
        return {"host": host, "port": port, "username": username, "password": password}
    u = urlsplit(url)
    vhost = unquote(u.path[1:]) if len(u.path) > 1 else "/"
    return {
        "host": u.hostname or "localhost",
        "port": u.port or 5552,
        "username": unquote(u.username or "guest"),
        "password": unquote(u.password or "guest"),
        "vhost": vhost,
    }


def stream(default):
    """TUTORIAL_STREAM, else the tutorial's stream."""
    return os.environ.get("TUTORIAL_STREAM") or default


def consumer(default):
    """TUTORIAL_CONSUMER, else the tutorial's subscriber name."""
    return os.environ.get("TUTORIAL_CONSUMER") or default


def max_messages():
    value = os.environ.get("TUTORIAL_MAX_MESSAGES")
    return int(value) if value else None
