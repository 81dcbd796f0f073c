"""Credits as money: unlimited keys report the sentinel, negatives show as zero, cents scale."""

from __future__ import annotations

from pathlib import Path

import pytest

from lumagate.domain.clock import utcnow
from lumagate.service.spend import available_credits, credit_balance_cents
from lumagate.service.usage import UNLIMITED_AVAILABLE
from lumagate.settings import Settings
from lumagate.wiring.stores import Stores


@pytest.mark.parametrize(
    ("credits", "available"), [(None, UNLIMITED_AVAILABLE), (250, 250), (0, 0)], ids=str
)
async def test_available_credits(stores: Stores, credits: int | None, available: int) -> None:
    record, _ = await stores.keys.create("k", utcnow(), credits=credits)
    assert available_credits(record) == available


async def test_a_negative_balance_is_shown_as_zero(stores: Stores) -> None:
    record, _ = await stores.keys.create("k", utcnow(), credits=5)
    await stores.ledger.top_up(record.id, -5, utcnow(), None)
    drained = await stores.keys.find(record.id)
    assert drained is not None and available_credits(drained) == 0


async def test_balance_in_cents_follows_credit_usd(stores: Stores, tmp_path: Path) -> None:
    record, _ = await stores.keys.create("k", utcnow(), credits=250)
    assert credit_balance_cents(record, Settings(data_dir=tmp_path)) == 250.0  # 1 credit = 1 cent
    assert credit_balance_cents(record, Settings(data_dir=tmp_path, credit_usd=0.02)) == 500.0
