"""Billing in process on real SQLite and PostgreSQL: charges in the create's transaction,
refunds exactly once, limits, top-ups, and the ledger invariant (entries sum to the balance).

Every test takes ``database_url``, so it runs once per backend. The engine is not started:
the services are called directly through a prepared :class:`Gateway`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import (
    AuthenticationRequired,
    InvalidRequest,
    QuotaExceeded,
    RateLimitExceeded,
)
from lumagate.domain.ledger import LedgerKind
from lumagate.domain.pricing import PriceTable
from lumagate.domain.states import TaskState
from lumagate.domain.tenant import ApiKey
from lumagate.gateway import Gateway
from lumagate.service.tasks import CreateCommand
from lumagate.settings import Settings
from lumagate.store import migrate
from lumagate.store.schema import ledger, tasks

PRICE = PriceTable().price("default", "ray-2", "720p", "5s")


@pytest.fixture
async def gateway(database_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    gw = Gateway(settings)
    await gw.prepare()
    try:
        yield gw
    finally:
        await gw.close()


def command(prompt: str = "a fox", **changes: object) -> CreateCommand:
    return CreateCommand(channel=Channel.DEFAULT, dialect="reseller", prompt=prompt, **changes)  # type: ignore[arg-type]


async def fresh(gw: Gateway, key: ApiKey) -> ApiKey:
    record = await gw.stores.keys.get(key.id)
    assert record is not None
    return record


async def ledger_sum(gw: Gateway, key_id: str) -> int:
    async with gw.stores.db.read() as conn:
        return int(
            (
                await conn.execute(
                    select(func.coalesce(func.sum(ledger.c.delta), 0)).where(
                        ledger.c.key_id == key_id
                    )
                )
            ).scalar_one()
        )


async def test_migrations_reach_head_with_billing_tables(
    empty_database_url: str, tmp_path: Path
) -> None:
    gateway = Gateway(Settings(data_dir=tmp_path / "data", database_url=empty_database_url))
    await gateway.prepare()  # migrates the empty database
    try:
        assert await migrate.current_revision(gateway.stores.db) == migrate.head_revision()
        async with gateway.stores.db.read() as conn:
            tables = await conn.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
        assert {"ledger", "deliveries"} <= tables
    finally:
        await gateway.close()


async def test_concurrent_creates_never_overspend(gateway: Gateway) -> None:
    created = await gateway.services.keys.create("ten", credits=10 * PRICE)
    key = created.record

    async def attempt(i: int) -> str:
        try:
            await gateway.services.tasks.create(key, command(f"fox {i}"))
        except QuotaExceeded as exc:
            assert exc.code == "quota_not_enough" and exc.status == 403
            return "refused"
        return "accepted"

    outcomes = await asyncio.gather(*(attempt(i) for i in range(50)))
    assert outcomes.count("accepted") == 10 and outcomes.count("refused") == 40
    assert (await fresh(gateway, key)).credits == 0
    async with gateway.stores.db.read() as conn:
        stored = (
            await conn.execute(
                select(func.count()).select_from(tasks).where(tasks.c.tenant_id == key.id)
            )
        ).scalar_one()
    assert stored == 10  # a refused create leaves no task behind
    entries = await gateway.stores.ledger.entries(key_id=key.id, limit=1000)
    charges = [e for e in entries if e.kind == LedgerKind.CHARGE]
    assert len(charges) == 10 and all(e.balance_after is not None for e in charges)
    assert min(e.balance_after or 0 for e in charges) == 0
    assert await ledger_sum(gateway, key.id) == 0


async def test_a_failed_task_is_refunded_exactly_once(gateway: Gateway) -> None:
    key = (await gateway.services.keys.create("refund", credits=3 * PRICE)).record
    task = await gateway.services.tasks.create(key, command())
    assert (await fresh(gateway, key)).credits == 2 * PRICE
    failed = await gateway.stores.tasks.transition(
        task, TaskState.FAILED, utcnow(), failure_reason="Prompt moderation failed"
    )
    assert failed is not None
    results = await asyncio.gather(
        *(gateway.services.billing.on_task_changed(failed) for _ in range(5)),
        *(gateway.stores.ledger.refund(task.id, utcnow()) for _ in range(5)),
    )
    assert results.count(True) <= 1
    assert await gateway.services.billing.refund_missed() == 0
    assert (await fresh(gateway, key)).credits == 3 * PRICE
    kinds = [e.kind for e in await gateway.stores.ledger.entries(task_id=task.id)]
    assert sorted(kinds) == [LedgerKind.CHARGE, LedgerKind.REFUND]
    assert await ledger_sum(gateway, key.id) == 3 * PRICE


async def test_refund_missed_settles_a_failure_nobody_heard(gateway: Gateway) -> None:
    key = (await gateway.services.keys.create("sweep", credits=PRICE)).record
    task = await gateway.services.tasks.create(key, command())
    await gateway.stores.tasks.transition(task, TaskState.FAILED, utcnow(), failure_reason="lost")
    assert await gateway.services.billing.refund_missed() == 1
    assert await gateway.services.billing.refund_missed() == 0
    assert (await fresh(gateway, key)).credits == PRICE


async def test_later_sweeps_read_only_failures_since_the_previous_sweep(gateway: Gateway) -> None:
    """The first sweep of a process reads every failure; later ones start at the watermark."""
    billing = gateway.services.billing
    key = (await gateway.services.keys.create("watermark", credits=3 * PRICE)).record
    old, recent, fresh_one = [await gateway.services.tasks.create(key, command()) for _ in range(3)]
    long_ago = utcnow() - timedelta(days=3)
    await gateway.stores.tasks.transition(old, TaskState.FAILED, long_ago, failure_reason="lost")
    assert await billing.refund_missed() == 1  # first sweep: even a failure of days ago

    # A failure finished before the watermark is no longer looked at (the first sweep or the
    # listener settled everything before it); one finished after it is.
    await gateway.stores.tasks.transition(recent, TaskState.FAILED, long_ago, failure_reason="x")
    await gateway.stores.tasks.transition(fresh_one, TaskState.FAILED, utcnow(), failure_reason="y")
    assert await billing.refund_missed() == 1
    kinds = [e.kind for e in await gateway.stores.ledger.entries(task_id=recent.id)]
    assert kinds == [LedgerKind.CHARGE]
    assert await gateway.stores.ledger.unrefunded_failures() == [recent.id]


async def test_unlimited_keys_are_recorded_not_limited(gateway: Gateway) -> None:
    key = (await gateway.services.keys.create("free")).record
    for _ in range(3):
        await gateway.services.tasks.create(key, command(resolution="1080p"))
    entries = await gateway.stores.ledger.entries(key_id=key.id)
    assert [e.delta for e in entries] == [-225, -225, -225]
    assert all(e.balance_after is None for e in entries)
    assert (await fresh(gateway, key)).credits is None
    summary = await gateway.services.billing.summary(await fresh(gateway, key))
    assert summary.unlimited and summary.spent_total == 675 and summary.generations_month == 3


async def test_price_follows_channel_and_request(gateway: Gateway) -> None:
    key = (await gateway.services.keys.create("pro", credits=10_000)).record
    await gateway.services.tasks.create(
        key,
        CreateCommand(
            channel=Channel.PRO, dialect="reseller", prompt="x", resolution="4k", duration="9s"
        ),
    )
    assert (await fresh(gateway, key)).credits == 10_000 - PriceTable().price(
        "pro", "ray-2", "4k", "9s"
    )


async def test_idempotent_replays_are_charged_once(gateway: Gateway) -> None:
    key = (await gateway.services.keys.create("idem", credits=5 * PRICE)).record
    first = await gateway.services.tasks.create(key, command(idempotency_key="same"))
    again = await gateway.services.tasks.create(key, command(idempotency_key="same"))
    assert first.id == again.id
    assert (await fresh(gateway, key)).credits == 4 * PRICE


async def test_rate_limit_counts_creates_in_the_last_minute(gateway: Gateway) -> None:
    key = (await gateway.services.keys.create("rpm", rpm=3)).record
    for _ in range(3):
        await gateway.services.tasks.create(key, command())
    with pytest.raises(RateLimitExceeded) as limited:
        await gateway.services.tasks.create(key, command())
    assert limited.value.status == 429 and 1 <= limited.value.retry_after <= 60
    other = (await gateway.services.keys.create("other", rpm=3)).record
    await gateway.services.tasks.create(other, command())  # counted per key


async def test_running_limit_counts_unfinished_tasks(gateway: Gateway) -> None:
    key = (await gateway.services.keys.create("running", max_running=2)).record
    first = await gateway.services.tasks.create(key, command())
    await gateway.services.tasks.create(key, command())
    with pytest.raises(RateLimitExceeded) as limited:
        await gateway.services.tasks.create(key, command())
    assert limited.value.retry_after == gateway.settings.running_limit_retry_after_seconds
    await gateway.stores.tasks.transition(first, TaskState.FAILED, utcnow(), failure_reason="x")
    await gateway.services.tasks.create(key, command())


async def test_a_key_revoked_after_authentication_cannot_create(gateway: Gateway) -> None:
    key = (await gateway.services.keys.create("late", credits=PRICE)).record
    await gateway.services.keys.revoke(key.id)
    with pytest.raises(AuthenticationRequired):
        await gateway.services.tasks.create(key, command())
    assert (await fresh(gateway, key)).credits == PRICE


async def test_top_ups_keep_the_ledger_balanced(gateway: Gateway) -> None:
    key = (await gateway.services.keys.create("topup", credits=PRICE)).record
    await gateway.services.tasks.create(key, command())
    _record, balance = await gateway.services.keys.top_up(key.name, 2 * PRICE, "bought more")
    assert balance == 2 * PRICE
    _record, balance = await gateway.services.keys.top_up(key.id, -PRICE, "correction")
    assert balance == PRICE
    assert await ledger_sum(gateway, key.id) == (await fresh(gateway, key)).credits

    with pytest.raises(InvalidRequest):
        await gateway.services.keys.top_up(key.id, -10 * PRICE)
    unlimited = (await gateway.services.keys.create("unlimited")).record
    with pytest.raises(InvalidRequest):
        await gateway.services.keys.top_up(unlimited.id, 5)


async def test_webhook_secret_is_sealed_at_rest(gateway: Gateway) -> None:
    created = await gateway.services.keys.create("hooks")
    sealed = await gateway.stores.keys.sealed_webhook_secret(created.record.id)
    assert sealed is not None and created.webhook_secret not in sealed
    assert await gateway.services.keys.webhook_secret(created.record.id) == created.webhook_secret
    legacy, _plain = await gateway.stores.keys.create("legacy", utcnow())  # made without a secret
    secret = await gateway.services.keys.webhook_secret(legacy.id)
    assert secret.startswith("whsec_")
    assert await gateway.services.keys.webhook_secret(legacy.id) == secret
