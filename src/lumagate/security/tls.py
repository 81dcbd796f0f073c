"""One TLS context for the gateway's outbound httpx clients, instead of one per client.

httpx builds a new ``ssl.SSLContext`` for every client and transport made with the default
``verify=True``, loading certifi's CA bundle each time (~17 ms of CPU and ~0.8 MiB apiece); the
gateway makes four such clients at start-up (its own, the upstream providers', the tenant-URL
fetcher's and the callback sender's). They all verify against the same roots, so they share the
context this module builds once: the same one httpx would build, honouring ``SSL_CERT_FILE`` /
``SSL_CERT_DIR`` for the clients that trust the environment and not for the pinned transports
that do not. The context is configured once and never changed afterwards.
"""

from __future__ import annotations

import functools
import os
import ssl

import httpx


def client_tls(*, trust_env: bool) -> ssl.SSLContext:
    """The shared context httpx would build for ``verify=True`` with this ``trust_env``."""
    from_env = trust_env and bool(os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"))
    return _context(from_env=from_env)


@functools.cache
def _context(*, from_env: bool) -> ssl.SSLContext:
    return httpx.create_ssl_context(trust_env=from_env)
