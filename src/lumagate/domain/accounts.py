"""Upstream accounts as the engine, stores, services and providers all see them.

``Account`` is the stored description (no credentials); ``AccountHandle`` is what a provider is
handed, credentials decrypted. The settings keys are the names providers write into an account's
JSON settings. They live in the domain so that the store needs no provider import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lumagate.domain.channels import ALL_CHANNELS, Channel
from lumagate.domain.scheduling import AccountSlot

# Keys providers write into an account's settings (JSON) through ``maintain``.
AVAILABLE = "upstream_available"
"""Generations the upstream subscription still allows; the scheduler caps concurrency by it."""
CAPACITY = "upstream_capacity"
CREDIT_BALANCE = "upstream_credit_balance"
CHECKED_AT = "upstream_checked_at"
HOOK_TOKEN = "hook_token"
"""The unguessable path segment of this account's upstream callback URL."""
SESSION_LOST_AT = "session_lost_at"
"""When the account's session was first found dead (engine/health.py); cleared on renew."""
CALLBACKS = "callbacks"
"""False turns upstream callbacks off for one account (polling only)."""


@dataclass(frozen=True)
class Account:
    """An upstream account as stored: kind, limits, health; never its credentials."""

    id: str
    name: str
    kind: str
    base_url: str | None
    max_concurrency: int
    channels: tuple[Channel, ...]
    enabled: bool
    disabled_reason: str | None
    cooldown_until: datetime | None
    failures: int
    last_error: str | None
    settings: dict[str, Any]
    created_at: datetime

    @property
    def effective_concurrency(self) -> int:
        """``max_concurrency``, capped by what the upstream plan still allows (when known)."""
        available = self.settings.get(AVAILABLE)
        if isinstance(available, int) and not isinstance(available, bool):
            return max(0, min(self.max_concurrency, available))
        return self.max_concurrency

    def slot(self, running: int) -> AccountSlot:
        return AccountSlot(
            id=self.id,
            kind=self.kind,
            channels=self.channels,
            enabled=self.enabled,
            max_concurrency=self.effective_concurrency,
            running=running,
            cooldown_until=self.cooldown_until,
        )


@dataclass(frozen=True)
class AccountHandle:
    """An upstream account as a provider sees it: id, base URL, decrypted credentials."""

    id: str
    name: str
    kind: str
    base_url: str | None = None
    credentials: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewAccount:
    """What an operator gives to add an account (the store seals the credentials)."""

    kind: str
    name: str | None = None
    base_url: str | None = None
    credentials: dict[str, str] = field(default_factory=dict)
    max_concurrency: int = 1
    channels: tuple[Channel, ...] = ALL_CHANNELS
    settings: dict[str, Any] = field(default_factory=dict)
