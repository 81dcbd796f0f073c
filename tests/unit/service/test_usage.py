"""Usage in the luma-web shape: standard generations the balance still buys, the sentinel for
unlimited keys, and the caller's profile."""

from __future__ import annotations

from pathlib import Path

from lumagate.domain.clock import utcnow
from lumagate.service.billing import BillingService, price_table
from lumagate.service.usage import PLANS, UNLIMITED_AVAILABLE, UsageService
from lumagate.settings import Settings
from lumagate.wiring.stores import Stores


def _usage(stores: Stores, tmp_path: Path) -> UsageService:
    settings = Settings(data_dir=tmp_path)
    billing = BillingService(
        stores.ledger,
        price_table(settings),
        default_model=settings.default_model,
        credit_usd=settings.credit_usd,
        running_retry_after=1,
    )
    return UsageService(billing)


async def test_available_is_what_the_balance_buys(stores: Stores, tmp_path: Path) -> None:
    service = _usage(stores, tmp_path)
    price = service.billing.standard_price()
    key, _ = await stores.keys.create("t", utcnow(), credits=price * 3 + price // 2, plan="pro")
    usage = await service.usage(key)
    assert (usage.consumed, usage.available, usage.capacity) == (0, 3, 3)
    shape = usage.luma_shape()
    assert shape["subscription"] == {"active": True, "plan": "pro", "type": None}
    assert shape["plans"] == PLANS and shape["available"] == 3


async def test_an_unlimited_key_reports_the_sentinel(stores: Stores, tmp_path: Path) -> None:
    key, _ = await stores.keys.create("t", utcnow())
    assert (await _usage(stores, tmp_path).usage(key)).available == UNLIMITED_AVAILABLE


async def test_the_profile_never_holds_the_key(stores: Stores) -> None:
    key, plaintext = await stores.keys.create("alice", utcnow(), credits=None)
    profile = UsageService.profile(key)
    assert profile["name"] == "alice" and profile["unlimited"] is True
    assert profile["created_at"].endswith("Z")
    assert plaintext not in str(profile)
