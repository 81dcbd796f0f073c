"""Expiring media links, as Luma's presigned storage URLs expire (``--media-ttl-seconds``).

With a TTL every media URL the sim hands out carries ``exp`` (a Unix time) and ``sig`` (an HMAC
of the file name and ``exp`` under a secret of this sim process); the media route answers 403
to a link that is unsigned, tampered with or past ``exp``. Every poll and every
``download_video_url`` therefore gives a fresh link, and a link kept too long stops working:
exactly what a gateway that keeps videos must survive. Without a TTL links are plain and never
expire (the default).

The debug switch :attr:`MediaLinks.mode` makes all media answer 503 (``unavailable``: a storage
outage, retried) or 404 (``gone``: the upstream lost the files), or ``stall``: a download sends
the first half of its file and then waits until the mode changes (a slow or hung storage, so a
test can kill a gateway in the middle of a real download). ``served`` counts every GET of a
file, ``stalled`` the GETs that were held and ``resumed`` those of them that sent their file to
the end, so tests can prove a video was downloaded whole exactly once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections import Counter
from typing import Literal
from urllib.parse import urlencode, urlsplit

MediaMode = Literal["ok", "unavailable", "gone", "stall"]


class MediaLinks:
    """Signs the sim's media URLs and checks them; holds the media debug switch and counters."""

    def __init__(self, ttl_seconds: float | None = None) -> None:
        self.ttl_seconds = ttl_seconds
        self.mode: MediaMode = "ok"
        self.served: Counter[str] = Counter()
        self.stalled: Counter[str] = Counter()
        self.resumed: Counter[str] = Counter()
        self.expired = 0
        self._secret = secrets.token_bytes(32)
        self._flowing = asyncio.Event()
        self._flowing.set()

    def set_mode(self, mode: MediaMode) -> None:
        """Switch the media mode; leaving ``stall`` lets every held download go on."""
        self.mode = mode
        if mode == "stall":
            self._flowing.clear()
        else:
            self._flowing.set()

    async def wait_flowing(self) -> None:
        """Return once the mode is not ``stall``."""
        await self._flowing.wait()

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
        self.set_mode("ok")
        self.served.clear()
        self.stalled.clear()
        self.resumed.clear()
        self.expired = 0
