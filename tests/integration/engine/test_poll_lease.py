"""Two engines over one PostgreSQL database: only the holder of the polling lease polls
(issue 10: no idle writes on PostgreSQL either), a takeover polls each running task once, and a
callback received by the replica that does not poll still leads to the read that completes
the task.

Both gateways are built in the test process over one official account of a sim (polling mode,
no mirroring); the engine loops are not started, the test drives one refresher pass at a time
(the lease is taken or renewed inside a pass when a try is due). Upstream reads are counted at
the sim. The zero-writes count with both engines running is in ``test_idle_writes.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from lumagate.domain.accounts import HOOK_TOKEN
from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.engine.poll_lease import POLLING
from lumagate.engine.refresher import Refresher
from lumagate.gateway import Gateway
from lumagate.service.tasks import CreateCommand
from lumagate.sim.testing import SimServer, StartSim
from lumagate.store.engine_leases import EngineLeases
from lumagate.store.schema import tasks
from tests.support.databases import replica_secrets
from tests.support.engine_gateway import official_gateway
from tests.support.upstreams import sim_get

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

KEY = "luma-poll-lease"  # the sim takes official keys with its prefix, luma-
GET_ONE = "GET /generations/{generation_id}"
LIST = "GET /generations"
HOOK = "hook-token-of-the-test"

Pair = tuple[Gateway, Gateway, SimServer]
MakePair = Callable[..., Awaitable[Pair]]


def reads(sim: SimServer) -> int:
    routes = sim_get(sim, "/_sim/stats").get(KEY, {}).get("routes", {})
    return int(routes.get(GET_ONE, 0)) + int(routes.get(LIST, 0))


def refresher(gw: Gateway) -> Refresher:
    return gw.engine.engine.refresher


@pytest.fixture
async def make_pair(
    tmp_path: Path, database_url: str, start_sim: StartSim
) -> AsyncIterator[MakePair]:
    """Replicas ``a`` (which adds the account) and ``b`` over one database and one sim; ``b``
    takes ``a``'s settings, but for those in ``b_settings``."""
    opened: list[Gateway] = []

    async def make(
        dreaming_seconds: float = 3600, b_settings: dict[str, Any] | None = None, **settings: Any
    ) -> Pair:
        sim = start_sim(queued_seconds=0.0, dreaming_seconds=dreaming_seconds, max_concurrency=10)
        settings = {"mirror_media": False, **replica_secrets(), **settings}
        a = await official_gateway(
            tmp_path / "a", database_url, sim.base_url, KEY, max_concurrency=10, **settings
        )
        opened.append(a)
        b_update = {"data_dir": tmp_path / "b", **(b_settings or {})}
        b = Gateway(a.settings.model_copy(update=b_update))
        await b.prepare()
        opened.append(b)
        return a, b, sim

    yield make
    for gw in opened:
        await gw.close()


async def processing_tasks(gw: Gateway, count: int) -> list[str]:
    """``count`` tasks created, submitted and polled once by ``gw`` (which takes the lease)."""
    key, _ = await gw.stores.keys.create("tenant", utcnow())
    command = CreateCommand(channel=Channel.DEFAULT, dialect="reseller", prompt="a calm sea")
    ids = [(await gw.services.tasks.create(key, command)).id for _ in range(count)]
    engine = gw.engine.engine
    assert await engine.dispatcher.dispatch_once() == count
    await engine.dispatcher.drain(30)
    await make_due(gw)
    assert await engine.refresher.refresh_once() == count  # submitted -> processing
    for task_id in ids:
        task = await gw.stores.tasks.get(task_id)
        assert task is not None and task.state == TaskState.PROCESSING, task
    return ids


async def make_due(gw: Gateway) -> None:
    async with gw.stores.db.write() as conn:
        await conn.execute(update(tasks).values(next_poll_at=utcnow() - timedelta(seconds=1)))


async def holder(gw: Gateway) -> str | None:
    return await EngineLeases(gw.stores.db).holder(POLLING)


async def first_poll(gw: Gateway, timeout: float = 30.0) -> int:
    """Passes of ``gw``'s refresher until one polls something; how many tasks it polled."""
    deadline = time.monotonic() + timeout
    while True:
        polled = await refresher(gw).refresh_once()
        if polled:
            return polled
        assert time.monotonic() < deadline, "the replica never took the polling lease over"
        await asyncio.sleep(0.05)


async def test_only_the_holder_of_the_lease_polls(make_pair: MakePair) -> None:
    a, b, sim = await make_pair()
    await processing_tasks(a, 3)
    assert await holder(a) == a.engine.engine.ctx.replica_id
    await make_due(a)
    before = reads(sim)
    for _ in range(3):
        assert await refresher(b).refresh_once() == 0
    assert reads(sim) == before  # the replica without the lease read nothing upstream
    assert await refresher(a).refresh_once() == 3
    assert reads(sim) - before == 1  # one list call for the account's three tasks
    assert await refresher(b).refresh_once() == 0
    assert await refresher(a).refresh_once() == 0  # held in a's memory now
    assert await holder(a) == a.engine.engine.ctx.replica_id


async def test_when_the_holder_dies_another_replica_takes_over_and_polls_each_task_once(
    make_pair: MakePair,
) -> None:
    # ``a``'s lease runs out soon after it dies; ``b``'s own (30 s) outlasts a slow pass, so the
    # holder read below sees it (CI once saw a 1 s lease of ``b`` run out during its first poll).
    a, b, sim = await make_pair(lease_seconds=1.0, b_settings={"lease_seconds": 30.0})
    await processing_tasks(a, 3)
    await make_due(a)
    assert await refresher(a).refresh_once() == 3  # now held in a's memory only
    before = reads(sim)
    # ``a`` dies here: it neither polls nor renews again, nor gives the lease up.
    assert await first_poll(b) == 3  # every running task, once
    assert reads(sim) - before == 1
    assert await holder(b) == b.engine.engine.ctx.replica_id
    assert await refresher(b).refresh_once() == 0  # now held in b's memory
    assert await refresher(a).refresh_once() == 0  # a late pass of ``a``: no lease, no poll
    assert reads(sim) - before == 1


async def test_a_holder_stopped_cleanly_gives_the_lease_up_at_once(make_pair: MakePair) -> None:
    a, b, _ = await make_pair()  # a 30 s lease: ``b`` cannot have waited for it to run out
    await processing_tasks(a, 2)
    await make_due(a)
    assert await refresher(a).refresh_once() == 2
    await a.engine.engine.stop()
    assert await holder(a) is None
    assert await refresher(b).refresh_once() == 2  # b's first try: taken over at once
    assert await refresher(a).refresh_once() == 0


async def _followed_with_hook(a: Gateway) -> Any:
    """One processing task whose next poll ``a`` holds in memory, its account given a hook
    token, and its generation finished upstream (nothing is due, so ``a`` does not read it)."""
    [task_id] = await processing_tasks(a, 1)
    task = await a.stores.tasks.get(task_id)
    assert task is not None and task.account_id and task.upstream_id
    await make_due(a)
    assert await refresher(a).refresh_once() == 1  # unchanged: its next poll held in a's memory
    assert await a.stores.pool.update_settings(task.account_id, {HOOK_TOKEN: HOOK}, utcnow())
    return task


async def test_a_callback_on_the_replica_that_does_not_poll_completes_the_task(
    make_pair: MakePair,
) -> None:
    a, b, sim = await make_pair(refresh_interval_seconds=60)  # no poll due for a minute
    task = await _followed_with_hook(a)
    sim.runtime.world.generations[task.upstream_id].dreaming_seconds = 0.0
    before = reads(sim)
    # Its callback reaches ``b``, which polls nothing: the body (authenticated by the hook
    # token) is the result, recorded there with no upstream read.
    video = "https://upstream.invalid/taken-from-the-callback.mp4"
    payload = {"id": task.upstream_id, "state": "completed", "assets": {"video": video}}
    assert await b.engine.upstream_hooks.receive(HOOK, payload)
    done = await a.stores.tasks.get(task.id)
    assert done is not None and done.state == TaskState.COMPLETED, done
    assert done.media is not None and done.media.video == video
    assert await refresher(b).refresh_once() == 0
    assert await refresher(a).refresh_once() == 0  # nothing left to read
    assert reads(sim) == before


async def test_an_early_change_marked_on_the_replica_that_does_not_poll_is_read_by_the_holder(
    make_pair: MakePair,
) -> None:
    """``Refresher.poke`` (a callback the hook cannot apply, a finished render) on ``b`` is a
    durable mark: the holder's next pass reads the task from the upstream."""
    a, b, sim = await make_pair(refresh_interval_seconds=60)  # no poll due for a minute
    task = await _followed_with_hook(a)
    sim.runtime.world.generations[task.upstream_id].dreaming_seconds = 0.0
    before = reads(sim)
    assert await refresher(a).refresh_once() == 0
    assert reads(sim) == before
    await refresher(b).poke(task.account_id, task.upstream_id)
    assert await refresher(b).refresh_once() == 0
    assert await refresher(a).refresh_once() == 1  # a's next pass reads it
    done = await a.stores.tasks.get(task.id)
    assert done is not None and done.state == TaskState.COMPLETED, done
    assert done.media is not None  # read from the upstream
    assert reads(sim) - before == 1
