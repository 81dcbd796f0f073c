"""A create's deliverability check reads the accounts only when some account kind could fall
short of the request: a request every kind delivers is deliverable whatever the pool holds."""

from __future__ import annotations

from datetime import datetime

import pytest

from lumagate.domain.accounts import Account
from lumagate.domain.channels import ALL_CHANNELS, Channel
from lumagate.domain.errors import InvalidRequest
from lumagate.domain.request import GenerationRequest
from lumagate.service.deliverability import Deliverability
from lumagate.store.accounts import AccountStore


class CountingAccounts:
    """The one read Deliverability makes, counted; the pool is one web-session account."""

    def __init__(self) -> None:
        self.reads = 0

    async def all(self) -> list[Account]:
        self.reads += 1
        return [
            Account(
                id="web",
                name="web",
                kind="luma-web",
                base_url=None,
                max_concurrency=1,
                channels=ALL_CHANNELS,
                enabled=True,
                disabled_reason=None,
                cooldown_until=None,
                failures=0,
                last_error=None,
                settings={},
                created_at=datetime(2026, 1, 1),
            )
        ]


def _check(accounts: CountingAccounts) -> Deliverability:
    store: AccountStore = accounts  # type: ignore[assignment]  # only .all() is called
    return Deliverability(store)


async def test_a_request_every_kind_delivers_reads_no_accounts() -> None:
    accounts = CountingAccounts()
    request = GenerationRequest(prompt="a fox")  # ray-2, 720p, 5 s: what the web app renders
    assert await _check(accounts).check(request, Channel.DEFAULT) is request
    assert accounts.reads == 0


async def test_a_request_some_kind_falls_short_of_is_checked_against_the_pool() -> None:
    accounts = CountingAccounts()
    request = GenerationRequest(prompt="a fox", resolution="1080p")
    with pytest.raises(InvalidRequest) as refused:
        await _check(accounts).check(request, Channel.DEFAULT)
    assert refused.value.field == "resolution" and accounts.reads == 1
