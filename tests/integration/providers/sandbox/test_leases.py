"""Render leases of the sandbox provider (providers/sandbox/provider.py) over a real database:
a render claimed by a replica that died is rendered by another once its lease ran out, once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from lumagate.domain.clock import utcnow
from lumagate.domain.render_jobs import RenderState
from lumagate.domain.request import GenerationRequest
from lumagate.media.store import MediaStore
from lumagate.providers.base import Submission, UpstreamState
from lumagate.providers.sandbox.jobs import RenderLease
from lumagate.providers.sandbox.provider import SandboxProvider
from lumagate.store import migrate
from lumagate.store.database import Database
from lumagate.store.render_jobs import RenderJobStore
from tests.support.sandbox import ACCOUNT, RENDER_TIMEOUT, poll_until_done

LEASE_SECONDS = 1.0


@pytest.fixture
async def jobs(database_url: str) -> AsyncIterator[RenderJobStore]:
    database = Database(database_url)
    await migrate.upgrade(database)
    try:
        yield RenderJobStore(database)
    finally:
        await database.dispose()


def replica(tmp_path: Path, name: str, jobs: RenderJobStore) -> SandboxProvider:
    """One replica's sandbox: its own data dir, the shared media folder and job store."""
    media = MediaStore(tmp_path / "shared-media", "http://lb.test")
    lease = RenderLease(name, LEASE_SECONDS, single_node=False)
    return SandboxProvider(
        tmp_path / name / "sandbox", media, concurrency=1, jobs=jobs, lease=lease
    )


def submission(intent_id: str) -> Submission:
    request = GenerationRequest(prompt=f"lease {intent_id}", aspect_ratio="1:1", resolution="540p")
    return Submission(intent_id=intent_id, request=request)


def renders(provider: SandboxProvider) -> dict[str, int]:
    return provider.render_count()


async def test_a_dead_replicas_render_is_taken_over_once_its_lease_runs_out(
    tmp_path: Path, jobs: RenderJobStore
) -> None:
    dead = replica(tmp_path, "replica-a", jobs)
    alive = replica(tmp_path, "replica-b", jobs)
    intent = "00000000-0000-0000-0000-0000000000a1"
    upstream_id = SandboxProvider.generation_id(intent)
    # replica-a recorded and claimed the job, then died (kill -9): nothing renders it
    folder = "videos/taken-over"
    await jobs.record(upstream_id, submission(intent).request.model_dump(mode="json"), None, folder)
    now = utcnow()
    claimed_until = now + timedelta(seconds=LEASE_SECONDS)
    assert await jobs.claim(upstream_id, "replica-a", claimed_until, now, single_node=False)
    try:
        first = (await alive.refresh_many(ACCOUNT, [upstream_id]))[upstream_id]
        if utcnow() < claimed_until:  # the lease still runs: the other replica keeps out
            assert first.state == UpstreamState.PROCESSING
            assert renders(alive) == {}
        done = await poll_until_done(alive, upstream_id)
        assert done.state == UpstreamState.COMPLETED, done.failure_reason
        assert utcnow() >= claimed_until  # taken over only once the lease ran out
        assert renders(alive) == {upstream_id: 1} and renders(dead) == {}
        stored = await jobs.get(upstream_id)
        assert stored is not None
        assert (stored.state, stored.renders, stored.owner) == (RenderState.COMPLETED, 1, None)
        assert done.media is not None
        assert (tmp_path / "shared-media" / folder / "video.mp4").stat().st_size > 1000
        # its slot is free: the next job on the one-slot replica renders too
        nxt = "00000000-0000-0000-0000-0000000000a2"
        await alive.submit(ACCOUNT, submission(nxt))
        done = await poll_until_done(alive, SandboxProvider.generation_id(nxt))
        assert done.state == UpstreamState.COMPLETED
        # and the replica that took over answers for the job, as every replica does
        again = (await dead.refresh_many(ACCOUNT, [upstream_id]))[upstream_id]
        assert again.state == UpstreamState.COMPLETED
        assert renders(dead) == {}
    finally:
        await alive.close()
        await dead.close()


async def test_a_lease_is_renewed_while_rendering_so_nobody_renders_twice(
    tmp_path: Path, jobs: RenderJobStore
) -> None:
    first = replica(tmp_path, "replica-a", jobs)
    second = replica(tmp_path, "replica-b", jobs)
    intent = "00000000-0000-0000-0000-0000000000b1"
    upstream_id = SandboxProvider.generation_id(intent)
    # a 9 s clip renders for longer than several lease periods on a busy machine
    request = GenerationRequest(
        prompt="long", aspect_ratio="16:9", resolution="720p", duration="9s"
    )
    try:
        await first.submit(ACCOUNT, Submission(intent_id=intent, request=request))
        stored = await jobs.get(upstream_id)
        assert stored is not None and stored.owner == "replica-a"
        while True:  # the other replica polls all along and never takes the job
            seen = (await second.refresh_many(ACCOUNT, [upstream_id]))[upstream_id]
            if seen.state == UpstreamState.COMPLETED:
                break
            assert seen.state == UpstreamState.PROCESSING, seen
            await asyncio.sleep(0.1)
        assert renders(first) == {upstream_id: 1} and renders(second) == {}
    finally:
        await first.close()
        await second.close()


async def test_a_stop_mid_render_records_the_render_so_nobody_renders_it_again(
    tmp_path: Path, jobs: RenderJobStore
) -> None:
    stopping = replica(tmp_path, "replica-a", jobs)
    other = replica(tmp_path, "replica-b", jobs)
    intent = "00000000-0000-0000-0000-0000000000c1"
    upstream_id = SandboxProvider.generation_id(intent)
    request = GenerationRequest(
        prompt="stop", aspect_ratio="16:9", resolution="720p", duration="9s"
    )
    try:
        await stopping.submit(ACCOUNT, Submission(intent_id=intent, request=request))
        deadline = time.monotonic() + RENDER_TIMEOUT
        while (await stopping.refresh_many(ACCOUNT, [upstream_id]))[upstream_id].progress == 0:
            assert time.monotonic() < deadline, "the render never started"
            await asyncio.sleep(0.05)
        await stopping.close()  # mid-render: its thread runs on, and close waits for it
        stored = await jobs.get(upstream_id)
        assert stored is not None
        assert (stored.state, stored.renders, stored.owner) == (RenderState.COMPLETED, 1, None)
        seen = (await other.refresh_many(ACCOUNT, [upstream_id]))[upstream_id]
        assert seen.state == UpstreamState.COMPLETED
        assert renders(stopping) == {upstream_id: 1} and renders(other) == {}
    finally:
        await other.close()


async def test_a_stop_gives_up_the_lease_of_a_job_not_yet_rendering(
    tmp_path: Path, jobs: RenderJobStore
) -> None:
    stopping = replica(tmp_path, "replica-a", jobs)
    intent = "00000000-0000-0000-0000-0000000000c2"
    upstream_id = SandboxProvider.generation_id(intent)
    await stopping.submit(ACCOUNT, submission(intent))  # claimed; its worker has not run yet
    await stopping.close()
    stored = await jobs.get(upstream_id)
    assert stored is not None
    assert (stored.state, stored.owner) == (RenderState.WAITING, None)


class _FinishFailsOnce(RenderJobStore):
    """The database refuses the first "render finished" write (a blip)."""

    failed = False

    async def finish(self, job_id: str, failure_reason: str | None) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("the database went away for a moment")
        await super().finish(job_id, failure_reason)


async def test_a_lost_finish_is_recovered_by_the_next_poll_without_rendering_again(
    tmp_path: Path, jobs: RenderJobStore
) -> None:
    flaky = _FinishFailsOnce(jobs.db)
    media = MediaStore(tmp_path / "shared-media", "http://lb.test")
    lease = RenderLease("replica-a", LEASE_SECONDS, single_node=False)
    provider = SandboxProvider(tmp_path / "a", media, concurrency=1, jobs=flaky, lease=lease)
    intent = "00000000-0000-0000-0000-0000000000d1"
    upstream_id = SandboxProvider.generation_id(intent)
    try:
        await provider.submit(ACCOUNT, submission(intent))
        done = await poll_until_done(provider, upstream_id)
        assert flaky.failed and done.state == UpstreamState.COMPLETED
        assert renders(provider) == {upstream_id: 1}
        stored = await jobs.get(upstream_id)
        assert stored is not None and (stored.state, stored.renders) == (RenderState.COMPLETED, 1)
    finally:
        await provider.close()
