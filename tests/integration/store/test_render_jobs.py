"""Sandbox render leases in the database (store/render_jobs.py) on SQLite and PostgreSQL:
one holder at a time, a dead holder's lease is taken once it runs out, finishing counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from lumagate.domain.render_jobs import RenderState
from lumagate.store import migrate
from lumagate.store.database import Database
from lumagate.store.render_jobs import RenderJobStore

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
JOB = "sbx-00000000-0000-0000-0000-00000000000a"


@pytest.fixture
async def jobs(database_url: str) -> AsyncIterator[RenderJobStore]:
    database = Database(database_url)
    await migrate.upgrade(database)
    try:
        yield RenderJobStore(database)
    finally:
        await database.dispose()


async def test_the_first_record_stands(jobs: RenderJobStore) -> None:
    first = await jobs.record(JOB, {"prompt": "a"}, None, "videos/first")
    again = await jobs.record(JOB, {"prompt": "b"}, "sbx-other", "videos/second")
    assert first == again
    assert (again.request, again.source, again.media_folder) == (
        {"prompt": "a"},
        None,
        "videos/first",
    )
    assert again.state == RenderState.WAITING and again.owner is None


async def test_a_live_lease_keeps_other_replicas_out_until_it_expires(
    jobs: RenderJobStore,
) -> None:
    await jobs.record(JOB, {}, None, "videos/x")
    assert await jobs.claim(JOB, "replica-a", T0 + LEASE, T0, single_node=False)
    assert not await jobs.claim(JOB, "replica-b", T0 + LEASE, T0 + LEASE / 2, single_node=False)
    assert await jobs.renew(JOB, "replica-a", T0 + 2 * LEASE)
    assert not await jobs.claim(JOB, "replica-b", T0 + 3 * LEASE, T0 + LEASE, single_node=False)
    # replica-a died: its lease ran out, replica-b takes the job and replica-a cannot renew it
    later = T0 + 2 * LEASE + timedelta(seconds=1)
    assert await jobs.claim(JOB, "replica-b", later + LEASE, later, single_node=False)
    assert not await jobs.renew(JOB, "replica-a", later + LEASE)
    job = await jobs.get(JOB)
    assert job is not None
    assert (job.state, job.owner) == (RenderState.RENDERING, "replica-b")
    assert job.lease_expires_at == later + LEASE


async def test_single_node_takes_a_dead_process_lease_at_once(jobs: RenderJobStore) -> None:
    await jobs.record(JOB, {}, None, "videos/x")
    assert await jobs.claim(JOB, "before-restart", T0 + LEASE, T0, single_node=True)
    assert await jobs.claim(JOB, "after-restart", T0 + LEASE, T0, single_node=True)


async def test_finished_jobs_are_never_claimed_and_count_their_render(
    jobs: RenderJobStore,
) -> None:
    await jobs.record(JOB, {}, None, "videos/x")
    assert await jobs.claim(JOB, "replica-a", T0 + LEASE, T0, single_node=False)
    await jobs.finish(JOB, None)
    await jobs.finish(JOB, None)  # a late second finish changes nothing
    job = await jobs.get(JOB)
    assert job is not None
    assert (job.state, job.renders, job.owner, job.lease_expires_at) == (
        RenderState.COMPLETED,
        1,
        None,
        None,
    )
    far = T0 + 100 * LEASE
    assert not await jobs.claim(JOB, "replica-b", far + LEASE, far, single_node=True)


async def test_a_failed_render_keeps_its_reason_and_counts_no_render(
    jobs: RenderJobStore,
) -> None:
    await jobs.record(JOB, {}, None, "videos/x")
    await jobs.finish(JOB, "Prompt moderation failed")
    job = await jobs.get(JOB)
    assert job is not None
    assert (job.state, job.failure_reason, job.renders) == (
        RenderState.FAILED,
        "Prompt moderation failed",
        0,
    )


async def test_release_frees_the_job_for_anyone_at_once(jobs: RenderJobStore) -> None:
    await jobs.record(JOB, {}, None, "videos/x")
    assert await jobs.claim(JOB, "replica-a", T0 + LEASE, T0, single_node=False)
    await jobs.release(JOB, "replica-b")  # not its lease: nothing changes
    assert not await jobs.claim(JOB, "replica-b", T0 + LEASE, T0, single_node=False)
    await jobs.release(JOB, "replica-a")
    job = await jobs.get(JOB)
    assert job is not None and job.state == RenderState.WAITING and job.owner is None
    assert await jobs.claim(JOB, "replica-b", T0 + LEASE, T0, single_node=False)
