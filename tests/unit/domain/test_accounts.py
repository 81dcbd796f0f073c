"""Accounts: the upstream plan caps an account's concurrency."""

from __future__ import annotations

from datetime import UTC, datetime

from lumagate.domain.accounts import Account
from lumagate.domain.channels import ALL_CHANNELS


def test_the_plan_caps_an_accounts_concurrency() -> None:
    account = Account(
        id="a",
        name="a",
        kind="luma-web",
        base_url=None,
        max_concurrency=3,
        channels=ALL_CHANNELS,
        enabled=True,
        disabled_reason=None,
        cooldown_until=None,
        failures=0,
        last_error=None,
        settings={"upstream_available": 1},
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert account.slot(0).max_concurrency == 1
    assert account.slot(0).free == 1
