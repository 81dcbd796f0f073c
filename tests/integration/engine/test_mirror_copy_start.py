"""How a mirror job starts, and how its files are copied beside each other (SQLite and PostgreSQL).

- the thumbnail's copy runs while the video is still being written, not after it;
- a job the engine stores with a copy slot free is stored held by this replica and started at
  once, never waiting for the mirror loop's claim; no other replica can take it meanwhile;
- a replica that died between storing such a job and copying it leaves the durable row: a
  restart (single node) releases it and the loop copies each file once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy.exc import CompileError

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.clock import utcnow
from lumagate.domain.mirroring import MirrorJob, MirrorState
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from tests.support.mirror_rig import (
    THUMB,
    VIDEO,
    Rig,
    completed_upstream,
    files,
    kept_bytes,
    rig,
    submitted,
    task_now,
    upstream_media,
)
from tests.support.waiting import async_wait_until

__all__ = ["files", "rig"]


async def test_the_thumbnail_is_copied_while_the_video_is_written(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (200, VIDEO), "/t.jpg": (200, THUMB)})
    task = await submitted(rig)
    await completed_upstream(rig, task, upstream_media(rig))

    async def thumbnail_fetched() -> None:  # holds the video's write until the thumbnail's GET
        await async_wait_until(lambda: rig.files.hits["/t.jpg"] == 1, "thumbnail GET", timeout=10)

    rig.sink.while_writing = thumbnail_fetched  # the next write is the video's
    assert await rig.worker.run_once() == 1
    done = await task_now(rig, task.id)
    assert done.state == TaskState.COMPLETED and done.media is not None
    assert kept_bytes(rig, done.media.video) == VIDEO
    assert kept_bytes(rig, done.media.thumbnail) == THUMB
    job = await rig.mirrors.get(task.id)
    assert job is not None and set(job.copied) == {"video", "thumbnail"}
    assert rig.files.hits == Counter({"/v.mp4": 1, "/t.jpg": 1})


@dataclass
class Claims:
    """The jobs the mirror loop claimed (wraps ``MirrorStore.claim_due``)."""

    claimed: list[str] = field(default_factory=list)


@pytest.fixture
async def running(rig: Rig) -> AsyncIterator[Claims]:
    """The rig's worker running as the engine runs it, wired to start stored jobs at once."""
    claims = Claims()
    claim_due = rig.mirrors.claim_due

    async def recording(*args: object, **kwargs: object) -> list[MirrorJob]:
        jobs = await claim_due(*args, **kwargs)  # type: ignore[arg-type]
        claims.claimed.extend(job.task_id for job in jobs)
        return jobs

    rig.mirrors.claim_due = recording  # type: ignore[method-assign]
    rig.ctx.mirror_starter = rig.worker
    loop = asyncio.create_task(rig.worker.run())
    await async_wait_until(lambda: rig.worker.accepting, "the worker runs", timeout=10)
    try:
        yield claims
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop


async def test_a_job_stored_with_a_free_slot_starts_at_once(rig: Rig, running: Claims) -> None:
    rig.files.routes.update({"/v.mp4": (200, VIDEO), "/t.jpg": (200, THUMB)})
    task = await submitted(rig)
    reads = _count_reads(rig)
    held = await completed_upstream(rig, task, upstream_media(rig))
    assert held is not None and held.state == TaskState.PROCESSING
    # Stored held by this replica: no other replica (and no loop pass) can claim it.
    assert await rig.mirrors.claim_due("other-replica", utcnow(), rig.worker.hold, 10) == []
    await async_wait_until(lambda: rig.worker.busy == 0, "the started copy ended", timeout=10)
    # Started with the task as held and its account: neither was read again for the copy.
    assert reads == Counter()
    done = await task_now(rig, task.id)
    assert done.state == TaskState.COMPLETED and done.media is not None
    assert kept_bytes(rig, done.media.video) == VIDEO
    assert rig.files.hits == Counter({"/v.mp4": 1, "/t.jpg": 1})
    assert task.id not in running.claimed  # never waited for a claim
    job = await rig.mirrors.get(task.id)
    assert job is not None and job.state == MirrorState.DONE


def _count_reads(rig: Rig) -> Counter[str]:
    """Counts the task and account reads from now on (wraps the context's stores)."""
    reads: Counter[str] = Counter()
    get_task, load_handle = rig.ctx.tasks.get, rig.ctx.accounts.load_handle

    async def task_read(task_id: str, tenant_id: str | None = None) -> Task | None:
        reads["task"] += 1
        return await get_task(task_id, tenant_id)

    async def account_read(account_id: str) -> AccountHandle | None:
        reads["account"] += 1
        return await load_handle(account_id)

    rig.ctx.tasks.get = task_read  # type: ignore[method-assign]
    rig.ctx.accounts.load_handle = account_read  # type: ignore[method-assign]
    return reads


@dataclass
class DiesBeforeStarting:
    """A starter whose process dies after the job is stored held, before it is started."""

    reserved: int = 0

    def reserve(self) -> bool:
        self.reserved += 1
        return True

    def start(
        self, job: MirrorJob, task: Task | None = None, account: AccountHandle | None = None
    ) -> None:
        return None

    def release(self) -> None:
        return None


async def test_a_held_job_of_a_replica_that_died_is_copied_once_after_a_restart(
    rig: Rig,
) -> None:
    rig.files.routes.update({"/v.mp4": (200, VIDEO), "/t.jpg": (200, THUMB)})
    starter = DiesBeforeStarting()
    rig.ctx.mirror_starter = starter
    task = await submitted(rig)
    await completed_upstream(rig, task, upstream_media(rig))
    assert starter.reserved == 1
    assert (await task_now(rig, task.id)).state == TaskState.PROCESSING
    assert await rig.worker.run_once() == 0  # held by the dead process: not due yet
    assert rig.files.hits == Counter()
    assert await rig.mirrors.release_all_held(utcnow()) == 1  # the restart (single node)
    assert await rig.worker.run_once() == 1
    done = await task_now(rig, task.id)
    assert done.state == TaskState.COMPLETED and done.media is not None
    assert rig.files.hits == Counter({"/v.mp4": 1, "/t.jpg": 1})


async def test_the_job_and_the_tasks_hold_are_one_transaction(rig: Rig) -> None:
    """A hold that cannot be written leaves no job either (and a stored job always has its
    task held): the completion is then still to be learnt, as before it arrived."""
    task = await submitted(rig)
    job = MirrorJob(task.id, task.account_id, "up-1", upstream_media(rig), "mirrors/p/")
    with pytest.raises(CompileError):  # a column the tasks table does not have
        await rig.mirrors.enqueue_and_hold(job, task, utcnow(), {"no_such_column": 1})
    assert await rig.mirrors.get(task.id) is None
    assert (await task_now(rig, task.id)).state == TaskState.SUBMITTED
    stored, held = await rig.mirrors.enqueue_and_hold(
        job, task, utcnow(), {"progress": 99, "next_poll_at": None}
    )
    assert stored and held is not None and held.state == TaskState.PROCESSING
    assert (await task_now(rig, task.id)).progress == 99
    hold = {"progress": 99, "next_poll_at": None}
    again, _ = await rig.mirrors.enqueue_and_hold(job, held, utcnow(), hold)
    assert again is False  # a repeated completion keeps the first job
