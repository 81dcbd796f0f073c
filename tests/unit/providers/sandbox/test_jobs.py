"""The in-memory render jobs (providers/sandbox/jobs.py) keep the same rules as the database's:
the first record stands, one lease holder at a time, finished jobs are never claimed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lumagate.domain.render_jobs import RenderState
from lumagate.providers.sandbox.jobs import MemoryRenderJobs

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


async def test_memory_jobs_follow_the_lease_rules() -> None:
    jobs = MemoryRenderJobs()
    first = await jobs.record("sbx-1", {"prompt": "a"}, None, "videos/a")
    assert (await jobs.record("sbx-1", {"prompt": "b"}, None, "videos/b")) == first
    assert await jobs.claim("sbx-1", "a", T0 + LEASE, T0, single_node=False)
    assert not await jobs.claim("sbx-1", "b", T0 + LEASE, T0 + LEASE / 2, single_node=False)
    assert await jobs.claim("sbx-1", "b", T0 + LEASE, T0, single_node=True)  # a is dead
    assert not await jobs.renew("sbx-1", "a", T0 + 2 * LEASE)
    later = T0 + 2 * LEASE
    assert await jobs.claim("sbx-1", "a", later + LEASE, later, single_node=False)  # b expired
    await jobs.release("sbx-1", "b")
    assert (await jobs.get("sbx-1")).owner == "a"  # type: ignore[union-attr]
    await jobs.release("sbx-1", "a")
    job = await jobs.get("sbx-1")
    assert job is not None and (job.state, job.owner) == (RenderState.WAITING, None)
    await jobs.finish("sbx-1", None)
    await jobs.finish("sbx-1", "too late")
    job = await jobs.get("sbx-1")
    assert job is not None and (job.state, job.renders, job.failure_reason) == (
        RenderState.COMPLETED,
        1,
        None,
    )
    assert not await jobs.claim("sbx-1", "c", later, later, single_node=True)
    assert await jobs.get("sbx-2") is None
    assert not await jobs.claim("sbx-2", "c", later, later, single_node=True)
