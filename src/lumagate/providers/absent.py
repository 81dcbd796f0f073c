"""The stand-in for a provider this replica does not have (an account of a kind a newer
version added, met during a rolling upgrade).

The engine loops ask ``EngineContext.calls`` before calling and leave such accounts to the
replicas that know them; this stand-in is for a caller that does not ask: each call fails as a
:class:`TransientError`, the class every caller already treats as "try again later", so nothing
is failed or submitted because of this replica's version.
"""

from __future__ import annotations

from collections.abc import Sequence

from lumagate.domain.accounts import AccountHandle
from lumagate.providers.base import Submission, TransientError, UpstreamJob


class AbsentProvider:
    """Answers every call with a :class:`TransientError` naming the missing kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def _absent(self) -> TransientError:
        return TransientError(f"this replica has no provider for account kind {self.kind!r}")

    async def submit(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        raise self._absent()

    async def extend(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        raise self._absent()

    async def upload_image(self, account: AccountHandle, data: bytes, content_type: str) -> str:
        raise self._absent()

    async def refresh_many(
        self, account: AccountHandle, upstream_ids: Sequence[str]
    ) -> dict[str, UpstreamJob]:
        raise self._absent()

    async def find_submission(
        self, account: AccountHandle, submission: Submission
    ) -> UpstreamJob | None:
        raise self._absent()

    async def download_url(self, account: AccountHandle, upstream_id: str) -> str | None:
        raise self._absent()

    async def close(self) -> None:
        return None
