"""Upstream calls, timed and counted: a provider wrapper the engine calls through.

The registry hands the engine :class:`MeteredProvider` objects (``ProviderRegistry.calling``)
while capability checks (``isinstance(provider, CallbackAware)``) still see the real provider.
Outcomes are the provider error classes, so the label set stays small.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from lumagate.domain.accounts import AccountHandle
from lumagate.observability.metrics import GatewayMetrics
from lumagate.providers.base import (
    AuthenticationFailed,
    Provider,
    ProviderError,
    RateLimited,
    Rejected,
    Submission,
    TransientError,
    UpstreamJob,
)

T = TypeVar("T")
_OUTCOMES: tuple[tuple[type[BaseException], str], ...] = (
    (RateLimited, "rate_limited"),
    (AuthenticationFailed, "auth_failed"),
    (TransientError, "transient"),
    (Rejected, "rejected"),
    (ProviderError, "provider_error"),
)


def outcome_of(error: BaseException) -> str:
    for kind, name in _OUTCOMES:
        if isinstance(error, kind):
            return name
    return "error"


class MeteredProvider:
    """Forwards every :class:`Provider` call, recording its outcome and latency."""

    def __init__(self, inner: Provider, metrics: GatewayMetrics) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.metrics = metrics

    async def _call(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        started = time.monotonic()
        outcome = "ok"
        try:
            return await call()
        except BaseException as error:
            outcome = outcome_of(error)
            raise
        finally:
            self.metrics.upstream_call(self.kind, operation, outcome, time.monotonic() - started)

    async def submit(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        return await self._call("submit", lambda: self.inner.submit(account, submission))

    async def extend(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        return await self._call("extend", lambda: self.inner.extend(account, submission))

    async def upload_image(self, account: AccountHandle, data: bytes, content_type: str) -> str:
        return await self._call(
            "upload_image", lambda: self.inner.upload_image(account, data, content_type)
        )

    async def refresh_many(
        self, account: AccountHandle, upstream_ids: Sequence[str]
    ) -> dict[str, UpstreamJob]:
        return await self._call(
            "refresh_many", lambda: self.inner.refresh_many(account, upstream_ids)
        )

    async def find_submission(
        self, account: AccountHandle, submission: Submission
    ) -> UpstreamJob | None:
        return await self._call(
            "find_submission", lambda: self.inner.find_submission(account, submission)
        )

    async def download_url(self, account: AccountHandle, upstream_id: str) -> str | None:
        return await self._call(
            "download_url", lambda: self.inner.download_url(account, upstream_id)
        )

    async def close(self) -> None:
        await self.inner.close()
