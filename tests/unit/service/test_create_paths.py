"""A create's transaction on the raw driver (store/hot_write.py) and on the engine give the
same tasks, charges and refusals, on SQLite and PostgreSQL.

Each scenario runs twice through one prepared gateway's task service with the billing
admission: once as wired (the raw driver, checked to have answered without falling back), once
with the engine's transactions; the two outcomes (answers, refusals, the ledger, the balance,
the tenant's tasks) must be equal, and are checked against what billing promises.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import GatewayError, RateLimitExceeded
from lumagate.domain.pricing import PriceTable
from lumagate.domain.tenant import ApiKey
from lumagate.gateway import Gateway
from lumagate.service.tasks import CreateCommand
from lumagate.settings import Settings
from lumagate.store.hot_write import HotWrites
from lumagate.store.schema import tasks

PRICE = PriceTable().price("default", "ray-2", "720p", "5s")
Scenario = Callable[[Gateway, Callable[[ApiKey, CreateCommand], Awaitable[Any]]], Awaitable[Any]]


@pytest.fixture
async def gateway(database_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    gw = Gateway(Settings(data_dir=tmp_path / "data", database_url=database_url))
    await gw.prepare()
    try:
        yield gw
    finally:
        await gw.close()


def command(prompt: str = "a fox", key: str | None = None) -> CreateCommand:
    return CreateCommand(Channel.DEFAULT, "reseller", prompt, idempotency_key=key)


async def outcome(gw: Gateway, tenant: ApiKey, create: Any) -> Any:
    """What a create gives, without what differs between two runs (ids, times)."""
    try:
        task = await create
    except GatewayError as refusal:
        retry = refusal.retry_after if isinstance(refusal, RateLimitExceeded) else None
        return ("refused", type(refusal).__name__, refusal.status, refusal.message, retry)
    assert task.tenant_id == tenant.id
    stored = await gw.stores.tasks.get(task.id, tenant.id)
    assert stored == task  # the row the create returned is the row stored
    return ("task", task.state.value, task.channel.value, task.request.prompt, task.id)


async def books(gw: Gateway, tenant: ApiKey) -> Any:
    """The key's balance, ledger and tasks after a scenario (ids replaced by their order)."""
    key = await gw.stores.keys.get(tenant.id)
    assert key is not None
    entries = await gw.stores.ledger.entries(key_id=tenant.id)
    listed, _more = await gw.services.tasks.list_tasks(tenant, offset=0, limit=100)
    order = {task.id: n for n, task in enumerate(sorted(listed, key=lambda t: t.created_at))}
    ledger = [(e.kind.value, e.delta, e.balance_after, order.get(e.task_id or "")) for e in entries]
    return key.credits, sorted(ledger, key=str), sorted(order.values())


def _numbered(steps: list[Any]) -> list[Any]:
    """Task ids in the answers (and in refusals' messages) replaced by their order."""
    seen: dict[str, int] = {}
    for step in steps:
        if step[0] == "task":
            seen.setdefault(step[-1], len(seen))
    numbered = []
    for step in steps:
        if step[0] == "task":
            numbered.append((*step[:-1], seen[step[-1]]))
            continue
        message = step[3]
        for task_id, number in seen.items():
            message = message.replace(task_id, f"<task {number}>")
        numbered.append((*step[:3], message, *step[4:]))
    return numbered


async def unlimited(gw: Gateway, create: Any) -> Any:
    key, _ = await gw.stores.keys.create("unlimited", utcnow())
    return key, [await outcome(gw, key, create(key, command())) for _ in range(2)]


async def credits_run_out(gw: Gateway, create: Any) -> Any:
    key, _ = await gw.stores.keys.create("credits", utcnow(), credits=PRICE + 1)
    return key, [await outcome(gw, key, create(key, command())) for _ in range(2)]


async def revoked(gw: Gateway, create: Any) -> Any:
    key, _ = await gw.stores.keys.create("revoked", utcnow(), credits=10 * PRICE)
    first = await outcome(gw, key, create(key, command()))
    assert await gw.stores.keys.revoke(key.id, utcnow())
    return key, [first, await outcome(gw, key, create(key, command()))]


async def per_minute(gw: Gateway, create: Any) -> Any:
    key, _ = await gw.stores.keys.create("rpm", utcnow(), rpm=1)
    return key, [await outcome(gw, key, create(key, command())) for _ in range(2)]


async def running(gw: Gateway, create: Any) -> Any:
    key, _ = await gw.stores.keys.create("running", utcnow(), max_running=1, credits=5 * PRICE)
    return key, [await outcome(gw, key, create(key, command())) for _ in range(2)]


async def idempotent(gw: Gateway, create: Any) -> Any:
    key, _ = await gw.stores.keys.create("idempotent", utcnow())
    first = await outcome(gw, key, create(key, command(key="k-1")))
    replay = await outcome(gw, key, create(key, command(key="k-1")))
    other = await outcome(gw, key, create(key, command("another fox", key="k-1")))
    async with gw.stores.db.write() as conn:  # the key's task is now older than its window
        old = utcnow() - timedelta(hours=25)
        await conn.execute(update(tasks).where(tasks.c.tenant_id == key.id).values(created_at=old))
    renewed = await outcome(gw, key, create(key, command(key="k-1")))
    return key, [first, replay, other, renewed]


EXPECTED_REFUSALS = {
    "unlimited": [],
    "credits_run_out": [("QuotaExceeded", 403)],
    "revoked": [("AuthenticationRequired", 401)],
    "per_minute": [("RateLimitExceeded", 429)],
    "running": [("RateLimitExceeded", 429)],
    "idempotent": [("IdempotencyConflict", 409)],
}
SCENARIOS = [unlimited, credits_run_out, revoked, per_minute, running, idempotent]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
async def test_the_raw_driver_and_the_engine_store_and_refuse_alike(
    gateway: Gateway, scenario: Scenario
) -> None:
    service = gateway.services.tasks
    raw = service.writes
    assert isinstance(raw, HotWrites)
    sent: list[str] = []
    raw.trace(sent.append)
    raw_key, raw_steps = await scenario(gateway, service.create)
    assert raw.fallbacks == 0 and any(s.startswith("INSERT INTO tasks") for s in sent)
    service.writes = gateway.stores.transactions  # the engine's path, as before hot_write
    engine_key, engine_steps = await scenario(gateway, service.create)
    assert _numbered(raw_steps) == _numbered(engine_steps)
    assert await books(gateway, raw_key) == await books(gateway, engine_key)
    refusals = [(step[1], step[2]) for step in raw_steps if step[0] == "refused"]
    assert refusals == EXPECTED_REFUSALS[scenario.__name__]


async def test_a_charge_is_the_price_and_the_ledger_sums_to_the_balance(gateway: Gateway) -> None:
    key, steps = await credits_run_out(gateway, gateway.services.tasks.create)
    credits, ledger, tasks_made = await books(gateway, key)
    assert [s[0] for s in steps] == ["task", "refused"] and tasks_made == [0]
    assert credits == 1
    assert sorted(ledger) == [("charge", -PRICE, 1, 0), ("opening", PRICE + 1, PRICE + 1, None)]
