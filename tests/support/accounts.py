"""Account values for unit tests that need an ``Account`` without a store."""

from __future__ import annotations

from datetime import UTC, datetime

from lumagate.domain.accounts import Account
from lumagate.domain.channels import ALL_CHANNELS, Channel


def an_account(
    kind: str,
    account_id: str | None = None,
    *,
    enabled: bool = True,
    channels: tuple[Channel, ...] = ALL_CHANNELS,
    max_concurrency: int = 1,
) -> Account:
    """An account of ``kind`` (its id defaults to the kind), as ``AccountStore.all`` returns it."""
    return Account(
        id=account_id or kind,
        name=account_id or kind,
        kind=kind,
        base_url=None,
        max_concurrency=max_concurrency,
        channels=channels,
        enabled=enabled,
        disabled_reason=None if enabled else "off",
        cooldown_until=None,
        failures=0,
        last_error=None,
        settings={},
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
