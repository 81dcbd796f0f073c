"""No writes to ``tasks`` while running tasks change nothing, with two replicas on PostgreSQL
(issue 10): only the holder of the polling lease polls, and it keeps the next polls in memory.

Two gateways are started in the test process (all their engine loops run) over one database
and one official account of a sim in polling mode; five tasks run and never change (they dream
for an hour and the official API reports no progress). A trigger counts every row inserted,
updated or deleted in ``tasks`` while the sim answers several more poll rounds; the count
must stay zero. The lease's own renewals go to ``engine_leases`` and are counted apart: their
number follows the time, not the running tasks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.gateway import Gateway
from lumagate.service.tasks import CreateCommand
from lumagate.sim.testing import SimServer, StartSim
from tests.support.databases import replica_secrets
from tests.support.engine_gateway import official_gateway
from tests.support.upstreams import sim_get

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

KEY = "luma-idle-writes"
LIST = "GET /generations"
RUNNING = 5

COUNTER = [
    "CREATE TABLE test_writes (tbl TEXT PRIMARY KEY, n BIGINT NOT NULL)",
    "INSERT INTO test_writes VALUES ('tasks', 0), ('engine_leases', 0)",
    "CREATE FUNCTION test_count_write() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN UPDATE test_writes SET n = n + 1 WHERE tbl = TG_TABLE_NAME; RETURN NULL; END $$",
    "CREATE TRIGGER test_count_tasks AFTER INSERT OR UPDATE OR DELETE ON tasks "
    "FOR EACH ROW EXECUTE FUNCTION test_count_write()",
    "CREATE TRIGGER test_count_leases AFTER INSERT OR UPDATE OR DELETE ON engine_leases "
    "FOR EACH ROW EXECUTE FUNCTION test_count_write()",
]


@pytest.fixture
async def replicas(
    tmp_path: Path, database_url: str, start_sim: StartSim
) -> AsyncIterator[tuple[Gateway, Gateway, SimServer]]:
    sim = start_sim(queued_seconds=0.0, dreaming_seconds=3600, max_concurrency=10)
    settings = {"refresh_interval_seconds": 0.2, "lease_seconds": 1.5, **replica_secrets()}
    a = await official_gateway(
        tmp_path / "a", database_url, sim.base_url, KEY, max_concurrency=10, **settings
    )
    b = Gateway(a.settings.model_copy(update={"data_dir": tmp_path / "b"}))
    await a.start()
    await b.start()
    try:
        yield a, b, sim
    finally:
        await a.stop()
        await b.stop()


async def until(probe: Callable[[], Awaitable[bool]], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not await probe():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        await asyncio.sleep(0.05)


def list_reads(sim: SimServer) -> int:
    return int(sim_get(sim, "/_sim/stats").get(KEY, {}).get("routes", {}).get(LIST, 0))


async def written(gw: Gateway) -> dict[str, int]:
    async with gw.stores.db.read() as conn:
        rows = await conn.execute(text("SELECT tbl, n FROM test_writes"))
        return {str(table): int(n) for table, n in rows}


async def test_unchanged_running_tasks_cost_no_write_to_tasks_on_two_replicas(
    replicas: tuple[Gateway, Gateway, SimServer],
) -> None:
    a, b, sim = replicas
    key, _ = await a.stores.keys.create("tenant", utcnow())
    command = CreateCommand(channel=Channel.DEFAULT, dialect="reseller", prompt="a calm sea")
    ids = [(await a.services.tasks.create(key, command)).id for _ in range(RUNNING)]

    async def all_processing() -> bool:
        found = [await a.stores.tasks.get(i) for i in ids]
        return all(t is not None and t.state == TaskState.PROCESSING for t in found)

    await until(all_processing, "the tasks to be processing")
    async with a.stores.db.write() as conn:
        for statement in COUNTER:
            await conn.execute(text(statement))
    before = list_reads(sim)

    async def polled_four_more_rounds() -> bool:
        return list_reads(sim) >= before + 4

    # Several poll rounds of the unchanged tasks (their polls back off to 2 s at most).
    await until(polled_four_more_rounds, "four more poll rounds")
    counts = await written(a)
    assert counts["tasks"] == 0, counts
    assert counts["engine_leases"] > 0  # the holder renewed its lease meanwhile
    for task_id in ids:
        task = await b.stores.tasks.get(task_id)
        assert task is not None and task.state == TaskState.PROCESSING
