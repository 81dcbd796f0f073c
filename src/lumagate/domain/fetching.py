"""What fetching a tenant's URL can answer, shared by the fetcher (security) and its user (media).

The fetcher lives in ``security/guarded_fetch.py``; the media store only sees this interface,
so the two layers stay siblings that do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class UrlRefused(Exception):
    """The target is not allowed (policy). ``reason`` names only what the tenant wrote."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FetchFailed(Exception):
    """The fetch did not produce a body. ``reason`` is fit for a tenant's eyes."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Fetched:
    """The body of a successful GET, its declared content type and the host that served it."""

    data: bytes
    content_type: str
    host: str


class UrlFetcher(Protocol):
    """Refuses forbidden targets before connecting (``precheck``) and fetches bounded bodies."""

    async def precheck(self, url: str) -> None: ...

    async def fetch(self, url: str) -> Fetched: ...
