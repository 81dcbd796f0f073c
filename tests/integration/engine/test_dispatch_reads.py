"""A dispatch pass with every account full reads one queued candidate, not a batch.

Each create wakes the dispatcher; with a deep queue and no free slot, reading (and decoding)
a whole batch of candidates per create made creates slow down as the queue grew (bench: 221
creates/s empty, 54 with 2k queued). In-process gateway, one official account of one slot on
the sim; statements counted at the engine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.gateway import Gateway
from lumagate.service.tasks import CreateCommand
from lumagate.sim.testing import StartSim
from tests.support.engine_gateway import official_gateway

KEY = "luma-dispatch-reads"  # the sim takes official keys with its prefix, luma-


@contextmanager
def candidate_limits() -> Iterator[list[set[int]]]:
    """The integer parameters (the LIMIT) of every read of queued candidates in the block."""
    seen: list[set[int]] = []

    def record(_c: Any, _cur: Any, text: str, params: Any, _ctx: Any, _many: bool) -> None:
        flat = " ".join(text.split())
        if flat.startswith("SELECT") and "ORDER BY tasks.priority DESC" in flat:
            values = params.values() if isinstance(params, dict) else params
            seen.append({v for v in values if type(v) is int})  # LIMIT (and SQLite's OFFSET 0)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


@pytest.fixture
async def gateway(tmp_path: Path, database_url: str, start_sim: StartSim) -> AsyncIterator[Gateway]:
    sim = start_sim(queued_seconds=0.0, dreaming_seconds=3600)
    gw = await official_gateway(tmp_path, database_url, sim.base_url, KEY)
    try:
        yield gw
    finally:
        await gw.close()


async def test_a_full_pool_reads_one_candidate_per_pass(gateway: Gateway) -> None:
    key, _ = await gateway.stores.keys.create("tenant", utcnow())
    command = CreateCommand(channel=Channel.DEFAULT, dialect="reseller", prompt="a calm sea")
    ids = [(await gateway.services.tasks.create(key, command)).id for _ in range(30)]
    dispatcher = gateway.engine.engine.dispatcher
    with candidate_limits() as first:
        assert await dispatcher.dispatch_once() == 1  # the one slot is taken
    await dispatcher.drain(30)
    with candidate_limits() as full:
        assert await dispatcher.dispatch_once() == 0
    assert len(first) == len(full) == 1, (first, full)
    assert 64 in first[0] and 1 in full[0] and 64 not in full[0], (first, full)
    states = [t.state for t in [await gateway.stores.tasks.get(i) for i in ids] if t]
    assert states.count(TaskState.QUEUED) == 29
