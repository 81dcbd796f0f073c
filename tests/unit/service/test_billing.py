"""BillingService over real stores, inside the unit of work a create uses: revoked keys,
requests per minute, running tasks, a charge the balance cannot pay, refunds once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import AuthenticationRequired, QuotaExceeded, RateLimitExceeded
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.domain.tenant import ApiKey
from lumagate.service.billing import BillingService, price_table
from lumagate.settings import Settings
from lumagate.store.tasks import NewTask
from lumagate.wiring.stores import Stores
from tests.support.stores import stored_task


@pytest.fixture
def billing(stores: Stores, tmp_path: Path) -> BillingService:
    settings = Settings(data_dir=tmp_path)
    return BillingService(
        stores.ledger,
        price_table(settings),
        default_model=settings.default_model,
        credit_usd=settings.credit_usd,
        running_retry_after=7,
    )


def _new(key: ApiKey) -> NewTask:
    return NewTask(
        id=str(uuid.uuid4()),
        tenant_id=key.id,
        channel=Channel.DEFAULT,
        dialect="reseller",
        request=GenerationRequest(prompt="a red fox"),
    )


async def _admit(stores: Stores, billing: BillingService, key: ApiKey) -> NewTask:
    """Admit (and so charge) a create of the standard request, stored with its charge."""
    new = _new(key)
    async with stores.transactions.begin() as work:
        await billing.admit(work, key, new, utcnow())
        await work.tasks.insert(new, utcnow())
    return new


async def test_a_revoked_key_is_not_admitted(stores: Stores, billing: BillingService) -> None:
    key, _ = await stores.keys.create("t", utcnow())
    await stores.keys.revoke(key.id, utcnow())
    with pytest.raises(AuthenticationRequired):
        await _admit(stores, billing, key)


async def test_the_running_limit_refuses_with_its_retry_after(
    stores: Stores, billing: BillingService
) -> None:
    key, _ = await stores.keys.create("t", utcnow(), max_running=1)
    await _admit(stores, billing, key)  # nothing runs yet
    await stored_task(stores, key.id, TaskState.PROCESSING)
    with pytest.raises(RateLimitExceeded) as refused:
        await _admit(stores, billing, key)
    assert refused.value.retry_after == 7 and "1 unfinished" in refused.value.message


async def test_requests_per_minute_count_this_minutes_creates(
    stores: Stores, billing: BillingService
) -> None:
    key, _ = await stores.keys.create("t", utcnow(), rpm=2)
    for _ in range(2):
        await stored_task(stores, key.id)
    with pytest.raises(RateLimitExceeded) as refused:
        await _admit(stores, billing, key)
    assert 1 <= refused.value.retry_after <= 60


async def test_a_charge_the_balance_cannot_pay_is_refused_and_a_failure_is_refunded_once(
    stores: Stores, billing: BillingService
) -> None:
    price = billing.standard_price()
    key, _ = await stores.keys.create("t", utcnow(), credits=price)
    paid = await stores.tasks.get((await _admit(stores, billing, key)).id)
    assert paid is not None
    with pytest.raises(QuotaExceeded, match=f"costs {price}, the balance is 0"):
        await _admit(stores, billing, key)
    assert (await stores.tasks.count_by_state()) == {"queued": 1}  # the refused one: not stored
    failed = await stores.tasks.transition(paid, TaskState.FAILED, utcnow(), failure_reason="x")
    assert failed is not None
    await billing.on_task_changed(failed)
    await billing.on_task_changed(failed)  # the event again: no second refund
    summary = await billing.summary(await _fresh(stores, key))
    assert summary.balance == price and summary.spent_total == 0
    assert await billing.refund_missed() == 0  # nothing was lost


async def test_spent_between_counts_charges_in_the_window(
    stores: Stores, billing: BillingService
) -> None:
    key, _ = await stores.keys.create("t", utcnow(), credits=10_000)
    await _admit(stores, billing, key)
    hour = timedelta(hours=1)
    assert await billing.spent_between(key, utcnow() - hour, utcnow() + hour) > 0
    assert await billing.spent_between(key, utcnow() + hour, None) == 0


async def _fresh(stores: Stores, key: ApiKey) -> ApiKey:
    found = await stores.keys.get(key.id)
    assert found is not None
    return found


async def test_limits_are_told_before_a_balance_too_low(
    stores: Stores, billing: BillingService
) -> None:
    """The charge comes first in the unit of work, yet the refusals keep their order: a revoked
    key, then the rate and running limits, then the credits."""
    key, _ = await stores.keys.create("t", utcnow(), credits=0, rpm=1)
    await stored_task(stores, key.id)
    with pytest.raises(RateLimitExceeded):
        await _admit(stores, billing, key)
    await stores.keys.revoke(key.id, utcnow())
    with pytest.raises(AuthenticationRequired):
        await _admit(stores, billing, key)
    assert (await _fresh(stores, key)).credits == 0


async def test_the_running_limit_counts_no_further_than_the_limit(
    stores: Stores, billing: BillingService
) -> None:
    key, _ = await stores.keys.create("t", utcnow(), max_running=2)
    for _ in range(5):
        await stored_task(stores, key.id)
    async with stores.transactions.begin() as work:
        assert await work.quotas.unfinished(key.id) == 5
        assert await work.quotas.unfinished(key.id, up_to=2) == 2
    with pytest.raises(RateLimitExceeded, match="2 unfinished"):
        await _admit(stores, billing, key)
