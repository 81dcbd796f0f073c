"""A freed slot is refilled at once, in polling mode too: no wait for a dispatcher tick, and no
wait for the copy of the finished video (a held completion holds no slot).

In-process gateway with its engine running, one official account of one slot on the sim,
polling mode (no upstream callbacks). The dispatcher's own period is an hour, so the second
task can only be submitted because the poll (or the mirror copy) that ended the first woke the
dispatcher; the test waits on that condition and fails long before the hour is up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.domain.tenant import ApiKey
from lumagate.gateway import Gateway
from lumagate.service.tasks import CreateCommand
from lumagate.sim.testing import SimServer, StartSim
from tests.support.databases import replica_secrets
from tests.support.engine_gateway import official_gateway
from tests.support.upstreams import sim_get

KEY = "luma-slot-refill"
CREATE = "POST /generations/video"


async def _until(probe: Callable[[], Awaitable[bool]], what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await probe():
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.02)


async def _one_slot_gateway(
    tmp_path: Path, database_url: str, start_sim: StartSim, mirror: bool
) -> tuple[SimServer, Gateway, ApiKey, CreateCommand]:
    """A sim with one slot and a gateway on it that polls every 0.2 s and dispatches only when
    woken (a submit within the test can only come from a freed slot's wake-up)."""
    sim = start_sim(queued_seconds=0.0, dreaming_seconds=0.3, max_concurrency=1)
    secrets = {} if database_url.startswith("sqlite") else replica_secrets()
    gw = await official_gateway(
        tmp_path,
        database_url,
        sim.base_url,
        KEY,
        mirror_media=mirror,
        refresh_interval_seconds=0.2,
        dispatch_interval_seconds=3600,
        upstream_upkeep_seconds=3600,
        **secrets,
    )
    key, _ = await gw.stores.keys.create("tenant", utcnow())
    command = CreateCommand(channel=Channel.DEFAULT, dialect="reseller", prompt="a calm sea")
    return sim, gw, key, command


@pytest.mark.parametrize("mirror", [False, True], ids=["links", "mirrored"])
async def test_the_poll_that_ends_a_task_submits_the_next_at_once(
    tmp_path: Path, database_url: str, start_sim: StartSim, mirror: bool
) -> None:
    sim, gw, key, command = await _one_slot_gateway(tmp_path, database_url, start_sim, mirror)
    await gw.start()
    try:
        first = (await gw.services.tasks.create(key, command)).id
        second = (await gw.services.tasks.create(key, command)).id

        async def ended(task_id: str) -> bool:
            task = await gw.stores.tasks.get(task_id)
            return task is not None and task.state == TaskState.COMPLETED

        await _until(lambda: ended(first), "the first task completed")
        await _until(lambda: ended(second), "the second task submitted and completed")
    finally:
        await gw.stop()
    routes = sim_get(sim, "/_sim/stats")[KEY]["routes"]
    assert routes.get(CREATE) == 2, routes  # each task created once: the second once a slot freed


async def test_a_completion_held_for_its_copy_frees_its_slot_before_the_copy_ends(
    tmp_path: Path, database_url: str, start_sim: StartSim
) -> None:
    """The upstream is done once it reports the completion: the next task is submitted while
    the first one's video is still being kept (its copy hangs here), and both complete."""
    sim, gw, key, command = await _one_slot_gateway(tmp_path, database_url, start_sim, True)
    with sim.client() as debug:
        assert debug.post("/_sim/media", json={"mode": "stall"}).is_success
    await gw.start()
    try:
        first = (await gw.services.tasks.create(key, command)).id
        second = (await gw.services.tasks.create(key, command)).id

        async def submitted_twice() -> bool:
            return sim_get(sim, "/_sim/stats").get(KEY, {}).get("routes", {}).get(CREATE) == 2

        await _until(submitted_twice, "the second task submitted while the first is kept")
        held = await gw.stores.tasks.get(first)
        assert held is not None and held.state == TaskState.PROCESSING and held.progress == 99
        with sim.client() as debug:
            assert debug.post("/_sim/media", json={"mode": "ok"}).is_success

        async def both_completed() -> bool:
            found = [await gw.stores.tasks.get(i) for i in (first, second)]
            return all(t is not None and t.state == TaskState.COMPLETED for t in found)

        await _until(both_completed, "both tasks completed with their videos kept")
    finally:
        await gw.stop()
    assert sim_get(sim, "/_sim/stats")[KEY]["routes"].get(CREATE) == 2
