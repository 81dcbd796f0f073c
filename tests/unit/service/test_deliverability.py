"""Deliverability over a fake account list: a request every kind delivers reads no accounts;
otherwise the eligible accounts (the dispatcher's rule) decide between the request itself, its
degraded form and a 400 naming the field as the caller's dialect does."""

from __future__ import annotations

import pytest

from lumagate.domain.accounts import Account
from lumagate.domain.channels import Channel
from lumagate.domain.errors import InvalidRequest
from lumagate.domain.request import GenerationRequest
from lumagate.service.deliverability import Deliverability
from tests.support.accounts import an_account

FULL_HD = GenerationRequest(prompt="a fox", resolution="1080p")  # the web app renders 720p


class CountingAccounts:
    """The one read Deliverability makes, counted."""

    def __init__(self, *accounts: Account) -> None:
        self.accounts = list(accounts)
        self.reads = 0

    async def all(self) -> list[Account]:
        self.reads += 1
        return self.accounts


async def test_a_request_every_kind_delivers_reads_no_accounts() -> None:
    accounts = CountingAccounts(an_account("luma-web"))
    request = GenerationRequest(prompt="a fox")  # ray-2, 720p, 5 s: what the web app renders
    assert await Deliverability(accounts).check(request, Channel.DEFAULT) is request
    assert accounts.reads == 0


async def test_a_request_some_kind_falls_short_of_is_checked_against_the_pool() -> None:
    accounts = CountingAccounts(an_account("luma-web"))
    with pytest.raises(InvalidRequest) as refused:
        await Deliverability(accounts).check(FULL_HD, Channel.DEFAULT)
    assert refused.value.field == "resolution" and accounts.reads == 1
    assert "1080p" in refused.value.message and "720p" in refused.value.message


async def test_one_account_that_can_deliver_is_enough() -> None:
    accounts = CountingAccounts(an_account("luma-web"), an_account("luma-official"))
    assert await Deliverability(accounts).check(FULL_HD, Channel.DEFAULT) is FULL_HD


async def test_degrading_accepts_what_the_nearest_kind_delivers_and_records_the_ask() -> None:
    accounts = CountingAccounts(an_account("luma-web"))
    check = Deliverability(accounts, degrade=True)
    delivered = await check.check(FULL_HD.model_copy(update={"duration": "9s"}), Channel.DEFAULT)
    assert (delivered.resolution, delivered.duration) == ("720p", "5s")
    assert delivered.requested == {"resolution": "1080p", "duration": "9s"}
    assert delivered.dropped_fields == ("resolution", "duration")


@pytest.mark.parametrize(
    "pool",
    [
        (),
        (an_account("luma-web", enabled=False),),
        (an_account("luma-web", channels=(Channel.VIP,)),),
    ],
    ids=["no accounts", "disabled", "other channel"],
)
async def test_with_no_eligible_account_nothing_is_decided_here(pool: tuple[Account, ...]) -> None:
    accounts = CountingAccounts(*pool)
    assert await Deliverability(accounts).check(FULL_HD, Channel.DEFAULT) is FULL_HD


async def test_a_sandbox_behind_a_real_account_does_not_count_unless_always_used() -> None:
    accounts = CountingAccounts(an_account("luma-web"), an_account("sandbox"))
    with pytest.raises(InvalidRequest):
        await Deliverability(accounts).check(FULL_HD, Channel.DEFAULT)
    always = Deliverability(accounts, sandbox_always=True)
    assert await always.check(FULL_HD, Channel.DEFAULT) is FULL_HD


async def test_an_extend_is_checked_against_its_sources_account_only() -> None:
    accounts = CountingAccounts(an_account("luma-web", "web-1"), an_account("luma-official"))
    with pytest.raises(InvalidRequest):
        await Deliverability(accounts).check(FULL_HD, Channel.DEFAULT, pinned="web-1")
    check = Deliverability(accounts)
    assert await check.check(FULL_HD, Channel.DEFAULT, pinned="luma-official") is FULL_HD


async def test_the_refusal_names_the_field_as_the_dialect_does() -> None:
    accounts = CountingAccounts(an_account("luma-web"))
    with pytest.raises(InvalidRequest) as refused:
        await Deliverability(accounts).check(
            FULL_HD, Channel.VIP, field_names={"resolution": "size"}
        )
    assert refused.value.field == "size"
    assert refused.value.message.startswith("size 1080p") and "vip" in refused.value.message
