"""Expiring media links: ``/files/<key>?expires=<unix>&sig=<hex>`` when a TTL is configured.

Media paths already hold a random part (nobody can build one from a task id); an operator who
wants links to stop working after a while sets ``LUMAGATE_MEDIA_URL_TTL_SECONDS``. Each link
then carries its expiry and an HMAC-SHA256 of ``"<key>\\n<expires>"`` under a key derived from
the gateway's secret key (the same on every replica). Expiries are rounded up to the minute so
repeated reads of one task give the same link for a while (caches and players like that).
A missing, wrong or expired signature is answered like a missing file: 404.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable, Mapping

ROUND_SECONDS = 60


class LinkSigner:
    """Signs and checks media links; ``clock`` returns Unix seconds (tests pass their own)."""

    def __init__(self, key: bytes, ttl_seconds: float, clock: Callable[[], float] = time.time):
        self._key = key
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def _mac(self, key: str, expires: int) -> str:
        text = f"{key}\n{expires}".encode()
        return hmac.new(self._key, text, hashlib.sha256).hexdigest()

    def query(self, key: str) -> str:
        """``expires=…&sig=…`` for ``key``, valid for at least the TTL."""
        expires = math.ceil((self._clock() + self.ttl_seconds) / ROUND_SECONDS) * ROUND_SECONDS
        return f"expires={expires}&sig={self._mac(key, expires)}"

    def valid(self, key: str, params: Mapping[str, str]) -> bool:
        """True when ``params`` hold an unexpired signature of ``key``."""
        expires_text, signature = params.get("expires", ""), params.get("sig", "")
        if not expires_text.isdigit() or len(expires_text) > 12:
            return False
        expires = int(expires_text)
        if expires < self._clock():
            return False
        return hmac.compare_digest(self._mac(key, expires), signature)
