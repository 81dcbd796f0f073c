"""The provider interface: what the engine needs from any upstream kind.

A provider never knows a dialect. It receives the normalized :class:`GenerationRequest`, an
:class:`AccountHandle` naming the account it acts for, and reports :class:`UpstreamJob` values.
Errors are reported by raising the exceptions below, which the engine maps onto scheduling and
health decisions (cool down on 429, disable on 401, retry on transient faults).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.request import GenerationRequest
from lumagate.domain.task import TaskMedia


class UpstreamState(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class UpstreamJob:
    """One generation as the upstream reports it."""

    upstream_id: str
    state: UpstreamState
    progress: int | None = None
    failure_reason: str | None = None
    media: TaskMedia | None = None
    poll_after: float | None = None
    """Seconds until the next poll, when the provider knows better than the default interval
    (e.g. the upstream will call back, so polling is only the fallback)."""
    dropped_fields: tuple[str, ...] = ()
    """Request fields this upstream could not honour; recorded on the task's request."""


@dataclass(frozen=True)
class Submission:
    """A create or extend to send upstream.

    ``intent_id`` is the gateway task id: stored before the call, so a reconciler can match the
    upstream generation after a crash. ``extend_of_upstream_id`` is the upstream id of the source
    generation (valid only on the account that made it). ``callback_url`` is where the upstream
    may post state changes, if the provider supports it.
    """

    intent_id: str
    request: GenerationRequest
    extend_of_upstream_id: str | None = None
    callback_url: str | None = None
    not_before: datetime | None = None
    """No generation older than this can be the submission's (the task's creation time)."""


class MediaAccess(Protocol):
    """How a provider reads images and publishes files through the gateway's media store."""

    async def read(self, ref: str) -> tuple[bytes, str]:
        """The bytes and content type of an asset reference (media key or http(s) URL)."""
        ...

    def public_url(self, ref: str) -> str:
        """An absolute URL for an asset reference, under ``LUMAGATE_PUBLIC_URL`` for media keys."""
        ...


class ProviderError(Exception):
    """Base of every error a provider raises. ``message`` is shown to users on failure."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RateLimited(ProviderError):
    """429: the account is busy; cool it down and send the task elsewhere."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthenticationFailed(ProviderError):
    """401: the credentials or session are dead; disable the account with this reason."""


class TransientError(ProviderError):
    """5xx, timeouts, connection errors: retry with backoff."""


class Rejected(ProviderError):
    """The upstream refused this request for good (validation, moderation): the task fails."""


GONE = "The upstream no longer has this generation"
"""The failure of a task whose generation the upstream answers 404 for."""


def extend_source(submission: Submission) -> str:
    """The upstream id an extend continues; :class:`Rejected` when it is not known there."""
    if submission.extend_of_upstream_id is None:
        raise Rejected("The source video of this extend is not available")
    return submission.extend_of_upstream_id


def image_extension(content_type: str) -> str:
    """``image/jpeg`` -> ``jpg``, ``image/png`` -> ``png``: the name upstreams expect."""
    return content_type.split("/")[-1].replace("jpeg", "jpg")


@runtime_checkable
class Provider(Protocol):
    """One upstream kind. Instances are shared across accounts of that kind."""

    kind: str

    async def submit(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        """Create a generation."""
        ...

    async def extend(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        """Continue the generation ``submission.extend_of_upstream_id`` of this same account."""
        ...

    async def upload_image(self, account: AccountHandle, data: bytes, content_type: str) -> str:
        """Store an image where this upstream can read it; returns the URL to give it."""
        ...

    async def refresh_many(
        self, account: AccountHandle, upstream_ids: Sequence[str]
    ) -> dict[str, UpstreamJob]:
        """Current state of several generations of one account; missing ids are left out."""
        ...

    async def find_submission(
        self, account: AccountHandle, submission: Submission
    ) -> UpstreamJob | None:
        """After a crash between an upstream call and its record: the generation, if it exists."""
        ...

    async def download_url(self, account: AccountHandle, upstream_id: str) -> str | None:
        """The best watermark-free link for a completed generation, if the upstream has one."""
        ...

    async def close(self) -> None:
        """Release connections and workers."""
        ...
