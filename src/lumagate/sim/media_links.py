"""Expiring media links, as Luma's presigned storage URLs expire (``--media-ttl-seconds``).

With a TTL every media URL the sim hands out carries ``exp`` (a Unix time) and ``sig`` (an HMAC
of the file name and ``exp`` under a secret of this sim process); the media route answers 403
to a link that is unsigned, tampered with or past ``exp``. Every poll and every
``download_video_url`` therefore gives a fresh link, and a link kept too long stops working:
exactly what a gateway that keeps videos must survive. Without a TTL links are plain and never
expire (the default).

The debug switch :attr:`MediaLinks.mode` makes all media answer 503 (``unavailable``: a storage
outage, retried) or 404 (``gone``: the upstream lost the files); ``served`` counts every file
sent, so tests can prove a video was downloaded once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import Counter
from typing import Literal
from urllib.parse import urlencode, urlsplit

MediaMode = Literal["ok", "unavailable", "gone"]


class MediaLinks:
    """Signs the sim's media URLs and checks them; holds the media debug switch and counters."""

    def __init__(self, ttl_seconds: float | None = None) -> None:
        self.ttl_seconds = ttl_seconds
        self.mode: MediaMode = "ok"
        self.served: Counter[str] = Counter()
        self.expired = 0
        self._secret = secrets.token_bytes(32)

    def _sig(self, filename: str, exp: str) -> str:
        message = f"{filename}\n{exp}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def sign(self, url: str) -> str:
        """``url`` with ``exp`` and ``sig`` added when links expire; unchanged otherwise."""
        if self.ttl_seconds is None:
            return url
        filename = urlsplit(url).path.rsplit("/", 1)[-1]
        exp = f"{time.time() + self.ttl_seconds:.3f}"
        query = urlencode({"exp": exp, "sig": self._sig(filename, exp)})
        return f"{url}{'&' if '?' in url else '?'}{query}"

    def valid(self, filename: str, exp: str, sig: str) -> bool:
        """Whether a request for ``filename`` may be served (always, when links never expire)."""
        if self.ttl_seconds is None:
            return True
        try:
            deadline = float(exp)
        except ValueError:
            return False
        if not hmac.compare_digest(self._sig(filename, exp), sig):
            return False
        if time.time() > deadline:
            self.expired += 1
            return False
        return True

    def reset(self) -> None:
        self.mode = "ok"
        self.served.clear()
        self.expired = 0
