"""A create wakes the dispatcher only when a pass could claim something for it.

With every eligible account full, the pass a create woke read the queue and claimed nothing:
one write transaction per create for nothing (bench: write path). The dispatcher records the
channels whose pool it found full; a create of such a channel leaves it asleep, anything that
frees a slot still wakes it. In-process gateway, one official account of one slot on the sim.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lumagate.domain.channels import ALL_CHANNELS, Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.scheduling import AccountSlot
from lumagate.engine.dispatcher import busy_channels
from lumagate.gateway import Gateway
from lumagate.service.tasks import CreateCommand
from lumagate.sim.testing import StartSim
from tests.support.engine_gateway import official_gateway

KEY = "luma-create-wakeups"  # the sim takes official keys with its prefix, luma-
COMMAND = CreateCommand(channel=Channel.DEFAULT, dialect="reseller", prompt="a calm sea")


@pytest.fixture
async def gateway(tmp_path: Path, database_url: str, start_sim: StartSim) -> AsyncIterator[Gateway]:
    sim = start_sim(queued_seconds=0.0, dreaming_seconds=3600)
    gw = await official_gateway(tmp_path, database_url, sim.base_url, KEY)
    try:
        yield gw
    finally:
        await gw.close()


async def woken(gateway: Gateway) -> bool:
    """Whether the dispatcher's wake-up is set (and clear it): ``wait(0)`` returns at once."""
    return await gateway.engine.engine.ctx.signals.dispatch.wait(0)


async def test_creates_wake_the_dispatcher_only_while_a_slot_is_free(gateway: Gateway) -> None:
    key, _ = await gateway.stores.keys.create("tenant", utcnow())
    dispatcher = gateway.engine.engine.dispatcher
    await woken(gateway)
    await gateway.services.tasks.create(key, COMMAND)
    assert await woken(gateway)  # nothing known yet: a pass may claim it
    assert await dispatcher.dispatch_once() == 1  # the one slot is taken
    await dispatcher.drain(30)
    assert gateway.engine.engine.ctx.signals.busy_channels == frozenset(ALL_CHANNELS)
    queued = await gateway.services.tasks.create(key, COMMAND)
    assert not await woken(gateway)  # a pass now would claim nothing
    pinned = dataclasses.replace(queued, account_id="an-extend's-account")
    gateway.engine.engine.ctx.signals.task_queued(pinned)
    assert await woken(gateway)  # a pinned task is not the pool's: always woken
    accounts = await gateway.stores.accounts.all()
    await gateway.stores.accounts.disable(accounts[0].id, "test", utcnow())
    assert await dispatcher.dispatch_once() == 0
    assert (
        gateway.engine.engine.ctx.signals.busy_channels == frozenset()
    )  # no eligible account: not busy
    await gateway.services.tasks.create(key, COMMAND)
    assert await woken(gateway)  # the pass fails what no account can serve, at once


def _slot(slot_id: str, *, kind: str = "luma-official", free: int = 0, **extra: Any) -> AccountSlot:
    return AccountSlot(slot_id, kind, (Channel.DEFAULT,), True, 1 + free, 1, **extra)


def test_a_channel_is_busy_only_when_every_eligible_account_is_full() -> None:
    now = utcnow()
    full = _slot("full")
    roomy = _slot("roomy", free=1)
    cooling = _slot("cooling", cooldown_until=now + timedelta(seconds=30))
    sandbox = _slot("sandbox", kind="sandbox", free=4)
    assert busy_channels([full], now, sandbox_always=False) == {Channel.DEFAULT}
    assert busy_channels([full, roomy], now, sandbox_always=False) == frozenset()
    assert busy_channels([full, cooling], now, sandbox_always=False) == frozenset()
    # The sandbox serves only while no real account is eligible, unless told always.
    assert busy_channels([full, sandbox], now, sandbox_always=False) == {Channel.DEFAULT}
    assert busy_channels([full, sandbox], now, sandbox_always=True) == frozenset()
