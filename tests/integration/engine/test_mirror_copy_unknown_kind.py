"""The mirror copy on a replica with no provider for the task's account kind (a kind a newer
version added, during a rolling upgrade), against a real database (SQLite and PostgreSQL), a
real media store and a file server on loopback: the copy goes on with the account's fetcher;
an expired link, which needs the provider for fresh ones, leaves the job to a replica that
knows the kind, with no attempt spent, never failing the task as if its account had been
removed; such a replica then completes it with a fresh link."""

from __future__ import annotations

from lumagate.domain.clock import utcnow
from lumagate.domain.mirroring import MirrorState
from lumagate.domain.states import TaskState
from lumagate.providers.registry import ProviderRegistry
from tests.support import mirror_rig as rigs
from tests.support.mirror_rig import Rig, files, rig
from tests.support.waiting import async_wait_until

__all__ = ["files", "rig"]


async def _held_on_a_replica_without_the_kind(rig: Rig) -> str:
    """A completion held for its copy, then this replica forgets the account's kind."""
    task = await rigs.submitted(rig)
    await rigs.completed_upstream(rig, task, rigs.upstream_media(rig))
    rig.ctx.providers = ProviderRegistry()  # none for the rig account's kind any more
    return task.id


async def _until_due(rig: Rig, task_id: str) -> None:
    """Until the job's backoff has passed (the rig's is a few hundredths of a second)."""
    due = await rigs.due_at(rig, task_id)
    await async_wait_until(lambda: utcnow() >= due, "the job is due", timeout=5)


async def test_the_copy_goes_on_without_the_kinds_provider(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (200, rigs.VIDEO), "/t.jpg": (200, rigs.THUMB)})
    task_id = await _held_on_a_replica_without_the_kind(rig)
    assert await rig.worker.run_once() == 1
    done = await rigs.task_now(rig, task_id)
    assert done.state == TaskState.COMPLETED, done.failure_reason
    assert done.media is not None and rigs.kept_bytes(rig, done.media.video) == rigs.VIDEO


async def test_an_expired_link_waits_for_a_replica_that_knows_the_kind(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (403, b"expired"), "/t.jpg": (200, rigs.THUMB)})
    knowing = rig.ctx.providers
    task_id = await _held_on_a_replica_without_the_kind(rig)
    for tried in range(3):  # more tries than the rig's two attempts: none is spent
        if tried:
            await _until_due(rig, task_id)
        assert await rig.worker.run_once() == 1
        held = await rigs.task_now(rig, task_id)
        assert held.state == TaskState.PROCESSING and held.failure_reason is None
        job = await rig.mirrors.get(task_id)
        assert job is not None and job.state == MirrorState.PENDING and job.attempts == 0
        assert job.last_error is not None and "needs a replica that can call" in job.last_error
    assert rig.provider.download_calls == 0  # the provider was not reached from here

    rig.ctx.providers = knowing  # a replica that knows the kind takes it up
    rig.provider.fresh_video = rig.link("/fresh.mp4")
    rig.files.routes["/fresh.mp4"] = (200, rigs.VIDEO)
    await _until_due(rig, task_id)
    assert await rig.worker.run_once() == 1
    done = await rigs.task_now(rig, task_id)
    assert done.state == TaskState.COMPLETED, done.failure_reason
    assert done.media is not None and rigs.kept_bytes(rig, done.media.video) == rigs.VIDEO
    assert rig.provider.download_calls == 1
