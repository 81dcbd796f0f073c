"""The mirror copy on a replica with no provider for the task's account kind (a kind a newer
version added, during a rolling upgrade), against a real database (SQLite and PostgreSQL), a
real media store and a file server on loopback: the copy goes on with the account's fetcher;
an expired link, which needs the provider for fresh ones, is an attempt to retry later, never
a failure of the task as if its account had been removed."""

from __future__ import annotations

from lumagate.domain.mirroring import MirrorState
from lumagate.domain.states import TaskState
from lumagate.providers.registry import ProviderRegistry
from tests.support import mirror_rig as rigs
from tests.support.mirror_rig import Rig, files, rig

__all__ = ["files", "rig"]


async def _held_on_a_replica_without_the_kind(rig: Rig) -> str:
    """A completion held for its copy, then this replica forgets the account's kind."""
    task = await rigs.submitted(rig)
    await rigs.completed_upstream(rig, task, rigs.upstream_media(rig))
    rig.ctx.providers = ProviderRegistry()  # none for the rig account's kind any more
    return task.id


async def test_the_copy_goes_on_without_the_kinds_provider(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (200, rigs.VIDEO), "/t.jpg": (200, rigs.THUMB)})
    task_id = await _held_on_a_replica_without_the_kind(rig)
    assert await rig.worker.run_once() == 1
    done = await rigs.task_now(rig, task_id)
    assert done.state == TaskState.COMPLETED, done.failure_reason
    assert done.media is not None and rigs.kept_bytes(rig, done.media.video) == rigs.VIDEO


async def test_an_expired_link_is_retried_later_not_failed_as_a_removed_account(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (403, b"expired"), "/t.jpg": (200, rigs.THUMB)})
    task_id = await _held_on_a_replica_without_the_kind(rig)
    await rig.worker.run_once()
    held = await rigs.task_now(rig, task_id)
    assert held.state == TaskState.PROCESSING and held.failure_reason is None
    job = await rig.mirrors.get(task_id)
    assert job is not None and job.state == MirrorState.PENDING and job.attempts == 1
    assert job.last_error is not None and "no provider for account kind" in job.last_error
    assert rig.provider.download_calls == 0  # the provider was not reached from here
