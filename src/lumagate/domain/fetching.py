"""What fetching a tenant's URL can answer, shared by the fetcher (security) and its user (media).

The fetcher lives in ``security/guarded_fetch.py``; the media store only sees this interface,
so the two layers stay siblings that do not import each other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol


class UrlRefused(Exception):
    """The target is not allowed (policy). ``reason`` names only what the tenant wrote."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FetchFailed(Exception):
    """The fetch did not produce a body. ``reason`` is fit for a tenant's eyes; ``status`` is
    the HTTP status when the server answered with an error (None: no answer, or a bad body)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class TooLarge(FetchFailed):
    """The body is over the fetcher's size limit: no retry makes it smaller, so callers that
    retry transient failures give up at once."""


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


@dataclass(frozen=True)
class FetchedStream:
    """A successful GET whose body is read as it arrives (videos: never whole in memory)."""

    content_type: str
    host: str
    chunks: AsyncIterator[bytes]


class StreamFetcher(Protocol):
    """Opens a URL through the same guard and yields its body in chunks, bounded in size.

    Entering the context raises :class:`UrlRefused` or :class:`FetchFailed`; iterating
    ``chunks`` raises :class:`FetchFailed` (connection lost, over the size limit)."""

    def stream(self, url: str) -> AbstractAsyncContextManager[FetchedStream]: ...
