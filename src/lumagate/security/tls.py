"""One TLS context for the gateway's outbound httpx clients, its CA roots loaded at first use.

httpx builds a new ``ssl.SSLContext`` for every client and transport made with the default
``verify=True``, loading certifi's CA bundle each time (~17 ms of CPU and ~0.8 MiB apiece); the
gateway makes four such clients at start-up (its own, the upstream providers', the tenant-URL
fetcher's and the callback sender's). They all verify against the same roots, so they share the
context this module builds once: configured as httpx's would be (``ssl.create_default_context``
with certifi's bundle, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` for the clients that trust the
environment and not for the pinned transports that do not).

The bundle itself is loaded by the context's first TLS connection (or the first look at its
roots), not when the context is made: a gateway that has not yet called any HTTPS upstream has
not paid for it, and ``lumagate serve`` answers sooner (docs/bench.md). No connection is ever
made before the roots are in: every way a context starts TLS (``wrap_socket``, ``wrap_bio``)
loads them first. The context is configured once and never changed afterwards.
"""

from __future__ import annotations

import functools
import os
import ssl
import sys
import threading
from typing import Any

import certifi


class RootsOnFirstUse(ssl.SSLContext):
    """An ``ssl.SSLContext`` that loads its CA roots just before its first TLS connection."""

    _pending: tuple[str | None, str | None] | None
    _lock: threading.Lock

    def load_roots(self) -> None:
        """Load the roots now (once; threads that race wait for the one loading them)."""
        if self._pending is None:
            return
        with self._lock:
            if self._pending is not None:
                cafile, capath = self._pending
                self.load_verify_locations(cafile=cafile, capath=capath)
                self._pending = None

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self.load_roots()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self.load_roots()
        return super().wrap_bio(*args, **kwargs)

    def cert_store_stats(self) -> dict[str, int]:
        self.load_roots()
        return super().cert_store_stats()

    def get_ca_certs(self, binary_form: bool = False) -> Any:
        self.load_roots()
        return super().get_ca_certs(binary_form)


def client_tls(*, trust_env: bool) -> ssl.SSLContext:
    """The shared context httpx would build for ``verify=True`` with this ``trust_env``."""
    from_env = trust_env and bool(os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"))
    return _context(from_env=from_env)


@functools.cache
def _context(*, from_env: bool) -> RootsOnFirstUse:
    """What ``httpx.create_ssl_context(trust_env=from_env)`` returns, roots deferred."""
    if from_env and os.environ.get("SSL_CERT_FILE"):
        roots: tuple[str | None, str | None] = (os.environ["SSL_CERT_FILE"], None)
    elif from_env:
        roots = (None, os.environ["SSL_CERT_DIR"])
    else:
        roots = (certifi.where(), None)
    # As ssl.create_default_context(Purpose.SERVER_AUTH, cafile=..., capath=...) sets it up.
    context = RootsOnFirstUse(ssl.PROTOCOL_TLS_CLIENT)
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:
        context.keylog_filename = keylog
    context._pending, context._lock = roots, threading.Lock()
    return context
