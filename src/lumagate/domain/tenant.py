"""The tenant: an API key as every layer sees it (never the secret itself, only its metadata).

It lives in the domain so that dialects, services and stores share one type without the API
layer importing the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lumagate.domain.channels import Channel


@dataclass(frozen=True)
class ApiKey:
    """A tenant's key: its limits, channels and lifetime (the key itself is never kept)."""

    id: str
    name: str
    prefix: str
    credits: int | None
    channels: tuple[Channel, ...]
    rpm: int | None
    max_running: int | None
    plan: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    deadline_minutes: int | None = None  # the key's task deadline; None: the setting, 0: none

    def usable(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now
