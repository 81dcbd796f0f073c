"""A refresh pass writes only what changed, and follows each task's expected end.

In-process gateway (engine loops not started: the test drives one pass at a time) with one
official account on the sim, in polling mode. Statements are counted at the engine; upstream
reads at the sim's stats. A task whose poll changes nothing costs no write to ``tasks``: its
schedule is held in memory (``engine/poll_schedule.py``), by the one engine of a SQLite data dir
or by the replica holding the polling lease on PostgreSQL (``engine/poll_lease.py``; the lease's
own renewals, to ``engine_leases``, are not counted here). With a known recent run time its next
poll is put a margin before its expected end, so passes before then send no write and no
upstream read at all.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, update
from sqlalchemy.engine import Engine

from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.gateway import Gateway
from lumagate.service.tasks import CreateCommand
from lumagate.sim.testing import SimServer, StartSim
from lumagate.store.schema import tasks
from tests.support.engine_gateway import official_gateway
from tests.support.upstreams import sim_get

KEY = "luma-refresh-writes"  # the sim takes official keys with its prefix, luma-
GET_ONE = "GET /generations/{generation_id}"
LIST = "GET /generations"


@contextmanager
def writes() -> Iterator[list[str]]:
    """The INSERT/UPDATE/DELETE statements any engine sends to a table other than the
    lease's while the block runs."""
    seen: list[str] = []

    def record(_c: Any, _cur: Any, text: str, _p: Any, _ctx: Any, _many: bool) -> None:
        verb = text.lstrip().split()[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE") and "engine_leases" not in text:
            seen.append(" ".join(text.split())[:60])

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def reads(sim: SimServer) -> int:
    routes = sim_get(sim, "/_sim/stats").get(KEY, {}).get("routes", {})
    return int(routes.get(GET_ONE, 0)) + int(routes.get(LIST, 0))


@pytest.fixture
async def gateway(
    tmp_path: Path, database_url: str, start_sim: StartSim
) -> AsyncIterator[tuple[Gateway, SimServer]]:
    sim = start_sim(queued_seconds=0.0, dreaming_seconds=3600, max_concurrency=10)
    gw = await official_gateway(tmp_path, database_url, sim.base_url, KEY, max_concurrency=10)
    try:
        yield gw, sim
    finally:
        await gw.close()


async def _processing_tasks(gw: Gateway, count: int) -> list[str]:
    key, _ = await gw.stores.keys.create("tenant", utcnow())
    command = CreateCommand(channel=Channel.DEFAULT, dialect="reseller", prompt="a calm sea")
    ids = [(await gw.services.tasks.create(key, command)).id for _ in range(count)]
    engine = gw.engine.engine
    assert await engine.dispatcher.dispatch_once() == count
    await engine.dispatcher.drain(30)
    await _make_due(gw)
    await engine.refresher.refresh_once()  # submitted -> processing
    for task_id in ids:
        task = await gw.stores.tasks.get(task_id)
        assert task is not None and task.state == TaskState.PROCESSING, task
    return ids


async def _make_due(gw: Gateway) -> None:
    async with gw.stores.db.write() as conn:
        await conn.execute(update(tasks).values(next_poll_at=utcnow() - timedelta(seconds=1)))


async def _completed_history(gw: Gateway, run_seconds: float) -> None:
    now = utcnow()
    async with gw.stores.db.write() as conn:
        await conn.execute(
            tasks.insert(),
            [
                {
                    "id": str(uuid.uuid4()),
                    "tenant_id": "history",
                    "channel": Channel.DEFAULT.value,
                    "priority": Channel.DEFAULT.priority,
                    "dialect": "reseller",
                    "request": GenerationRequest(prompt="old").model_dump(mode="json"),
                    "state": TaskState.COMPLETED.value,
                    "created_at": now - timedelta(hours=1),
                    "updated_at": now - timedelta(hours=1),
                    "submitted_at": now - timedelta(hours=1),
                    "finished_at": now - timedelta(hours=1) + timedelta(seconds=run_seconds),
                }
                for _ in range(3)
            ],
        )


async def test_a_poll_that_changes_nothing_writes_nothing(
    gateway: tuple[Gateway, SimServer],
) -> None:
    gw, sim = gateway
    await _processing_tasks(gw, 5)
    await _make_due(gw)
    before = reads(sim)
    with writes() as seen:
        polled = await gw.engine.engine.refresher.refresh_once()
    assert polled == 5
    assert reads(sim) - before == 1  # one list call for the account's five tasks
    assert seen == []  # the claim is held in memory: nothing changed, nothing written
    # Nothing is due until the claim's hold ends: the next pass sends nothing at all.
    with writes() as again:
        assert await gw.engine.engine.refresher.refresh_once() == 0
    assert again == [] and reads(sim) - before == 1


async def test_a_known_run_time_puts_the_next_poll_near_the_expected_end(
    gateway: tuple[Gateway, SimServer],
) -> None:
    gw, sim = gateway
    await _completed_history(gw, run_seconds=600)
    ids = await _processing_tasks(gw, 3)
    for task_id in ids:
        row = await gw.stores.tasks.get(task_id)
        assert row is not None and row.submitted_at is not None
    async with gw.stores.db.read() as conn:
        polls = [
            r[0]
            for r in await conn.execute(
                tasks.select().with_only_columns(tasks.c.next_poll_at).where(tasks.c.id.in_(ids))
            )
        ]
    started = min(t.submitted_at for t in [await gw.stores.tasks.get(i) for i in ids] if t)
    for next_poll in polls:
        lead = (next_poll.replace(tzinfo=started.tzinfo) - started).total_seconds()
        assert 540 <= lead <= 542, lead  # 600 s less a 10 % margin (on the 2 s grid)
    before = reads(sim)
    with writes() as seen:
        for _ in range(3):
            assert await gw.engine.engine.refresher.refresh_once() == 0
    assert seen == [] and reads(sim) == before


async def test_a_poke_makes_a_task_whose_poll_is_held_due_at_once(
    gateway: tuple[Gateway, SimServer],
) -> None:
    gw, sim = gateway
    ids = await _processing_tasks(gw, 2)
    await _make_due(gw)
    refresher = gw.engine.engine.refresher
    assert await refresher.refresh_once() == 2  # nothing changed: held in memory
    assert await refresher.refresh_once() == 0
    task = await gw.stores.tasks.get(ids[0])
    assert task is not None and task.account_id and task.upstream_id
    await refresher.poke(task.account_id, task.upstream_id)  # an upstream callback came
    before = reads(sim)
    assert await refresher.refresh_once() == 1
    assert reads(sim) - before == 1
