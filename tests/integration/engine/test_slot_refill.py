"""A freed slot is refilled at once, in polling mode too: no wait for a dispatcher tick, and no
wait for the copy of the finished video (a held completion holds no slot).

In-process gateway with its engine running, one official account of one slot on the sim,
polling mode (no upstream callbacks) and callback mode (the completion callback handed to the
hook receiver, polls an hour apart). The dispatcher's own period is an hour, so the second
task can only be submitted because the poll, the callback (or the mirror copy) that ended the
first woke the dispatcher; the test waits on that condition and fails long before the hour is
up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from lumagate.domain.accounts import HOOK_TOKEN
from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.domain.tenant import ApiKey
from lumagate.gateway import Gateway
from lumagate.service.tasks import CreateCommand
from lumagate.sim.testing import SimServer, StartSim
from lumagate.sim.views import official_view
from tests.support.databases import replica_secrets
from tests.support.engine_gateway import official_gateway
from tests.support.upstreams import sim_get

KEY = "luma-slot-refill"
CREATE = "POST /generations/video"
HOOK = "hook-token-of-the-slot-refill-account"


async def _until(probe: Callable[[], Awaitable[bool]], what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await probe():
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.02)


async def _one_slot_gateway(
    tmp_path: Path,
    database_url: str,
    start_sim: StartSim,
    mirror: bool,
    dreaming: float = 0.3,
    **settings: Any,
) -> tuple[SimServer, Gateway, ApiKey, CreateCommand]:
    """A sim with one slot and a gateway on it that polls every 0.2 s (unless ``settings`` say
    otherwise) and dispatches only when woken (a submit within the test can only come from a
    freed slot's wake-up)."""
    sim = start_sim(queued_seconds=0.0, dreaming_seconds=dreaming, max_concurrency=1)
    secrets = {} if database_url.startswith("sqlite") else replica_secrets()
    gw = await official_gateway(
        tmp_path,
        database_url,
        sim.base_url,
        KEY,
        **{
            "mirror_media": mirror,
            "refresh_interval_seconds": 0.2,
            "dispatch_interval_seconds": 3600,
            "upstream_upkeep_seconds": 3600,
            **secrets,
            **settings,
        },
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
        first, second = await _two_created(gw, key, command)
        done = TaskState.COMPLETED
        await _until(lambda: _is(gw, first, done), "the first task completed")
        await _until(lambda: _is(gw, second, done), "the second task submitted and completed")
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


@pytest.mark.parametrize("mirror", [False, True], ids=["links", "mirrored"])
async def test_the_callback_that_ends_a_task_submits_the_next_at_once(
    tmp_path: Path, database_url: str, start_sim: StartSim, mirror: bool
) -> None:
    """Callback mode: neither the dispatcher's timer (an hour) nor a poll (an hour) can submit
    the second task; only the first one's completion callback, handed to the hook receiver as
    the upstream would post it, frees the slot and wakes the dispatcher."""
    sim, gw, key, command = await _callback_gateway(tmp_path, database_url, start_sim, mirror)
    _media_mode(sim, "stall")  # a kept video's copy never ends here: it frees nothing
    await gw.start()
    try:
        first, second = await _two_created(gw, key, command)
        submitted = TaskState.SUBMITTED
        await _until(lambda: _is(gw, first, submitted), "the first task submitted")
        task = await gw.stores.tasks.get(first)
        assert task is not None and task.upstream_id is not None
        generation = sim.runtime.world.generations[task.upstream_id]
        generation.dreaming_seconds = 0.0  # it ends upstream now; only a callback says so

        async def ended_upstream() -> bool:
            return generation.state == "completed"

        await _until(ended_upstream, "the first generation completed at the sim")
        assert sim_get(sim, "/_sim/stats")[KEY]["routes"].get(CREATE) == 1
        assert await gw.engine.upstream_hooks.receive(HOOK, official_view(generation))

        async def submitted_twice() -> bool:
            return sim_get(sim, "/_sim/stats")[KEY]["routes"].get(CREATE) == 2

        # Well under the hour of either timer: the callback's own wake-up submits it.
        await _until(submitted_twice, "the second task submitted after the callback", 5.0)
        await _until(lambda: _is(gw, second, submitted), "the second's create answer recorded")
    finally:
        _media_mode(sim, "ok")
        await gw.stop()
    assert sim_get(sim, "/_sim/stats")[KEY]["routes"].get(CREATE) == 2


async def _callback_gateway(
    tmp_path: Path, database_url: str, start_sim: StartSim, mirror: bool
) -> tuple[SimServer, Gateway, ApiKey, CreateCommand]:
    """A one-slot sim whose generations dream for an hour, and a gateway on it asking for
    callbacks (its account's hook token is ``HOOK``) that polls and dispatches hourly."""
    sim, gw, key, command = await _one_slot_gateway(
        tmp_path,
        database_url,
        start_sim,
        mirror,
        dreaming=3600,
        upstream_callbacks=True,
        refresh_interval_seconds=3600,
        upstream_callback_poll_seconds=3600,
    )
    [account] = await gw.stores.accounts.all()
    assert await gw.stores.pool.update_settings(account.id, {HOOK_TOKEN: HOOK}, utcnow())
    return sim, gw, key, command


def _media_mode(sim: SimServer, mode: str) -> None:
    with sim.client() as debug:
        assert debug.post("/_sim/media", json={"mode": mode}).is_success


async def _two_created(gw: Gateway, key: ApiKey, command: CreateCommand) -> tuple[str, str]:
    """Two tasks queued at once (the one slot takes the first; the second waits for it)."""
    first = (await gw.services.tasks.create(key, command)).id
    return first, (await gw.services.tasks.create(key, command)).id


async def _is(gw: Gateway, task_id: str, state: TaskState) -> bool:
    task = await gw.stores.tasks.get(task_id)
    return task is not None and task.state == state
