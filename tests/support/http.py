"""One TLS context for the test process's HTTP clients.

A new ``httpx.Client`` builds an SSL context and loads certifi's CA bundle into it: 30-55 ms of
CPU on this 2-core machine, although every server a test talks to is plain HTTP on loopback.
The helpers that open a client per poll or per call (``wait_until_up`` polls every 50 ms while a
server starts) spent more CPU on that than on the requests. The context is built once and
passed as ``verify``: the same verification settings as httpx's default, paid once. An
``SSLContext`` that is only read holds no state a test could leak to another.
"""

from __future__ import annotations

import ssl
from functools import cache

import certifi


@cache
def tls() -> ssl.SSLContext:
    """httpx's default context (certifi's CA bundle), built once per process."""
    return ssl.create_default_context(cafile=certifi.where())
