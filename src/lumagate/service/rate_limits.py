"""The rate-limit headers of a keyed response, from the key's ``rpm`` (creates per minute).

OpenAI-style clients read ``x-ratelimit-limit-requests``, ``x-ratelimit-remaining-requests``
and ``x-ratelimit-reset-requests``. The numbers are the ones admission enforces
(:mod:`lumagate.service.billing`): tasks the key created in the last 60 s, hidden ones
included. ``reset`` is how long until the window is empty again (the newest counted create
ages out), in whole seconds rounded up, written like OpenAI's (``"12s"``). A key without an
``rpm`` has no such limit and gets no headers.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Protocol

from lumagate.domain.clock import utcnow
from lumagate.domain.tenant import ApiKey

RATE_WINDOW = timedelta(seconds=60)
LIMIT_HEADER = "x-ratelimit-limit-requests"
REMAINING_HEADER = "x-ratelimit-remaining-requests"
RESET_HEADER = "x-ratelimit-reset-requests"
RATE_LIMIT_HEADERS = (LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER)


class RecentCreates(Protocol):
    """How many tasks a tenant created since a time, and when the newest was (the task store)."""

    async def creates_since(
        self, tenant_id: str, since: datetime
    ) -> tuple[int, datetime | None]: ...


class RateLimitReader:
    """Reads a key's place in its rate window and writes it as response headers."""

    def __init__(self, creates: RecentCreates) -> None:
        self.creates = creates

    async def headers(self, tenant: ApiKey, now: datetime | None = None) -> dict[str, str]:
        if tenant.rpm is None:
            return {}
        now = now or utcnow()
        count, newest = await self.creates.creates_since(tenant.id, now - RATE_WINDOW)
        reset = 0 if newest is None else (newest + RATE_WINDOW - now).total_seconds()
        return {
            LIMIT_HEADER: str(tenant.rpm),
            REMAINING_HEADER: str(max(0, tenant.rpm - count)),
            RESET_HEADER: f"{max(0, math.ceil(reset))}s",
        }
