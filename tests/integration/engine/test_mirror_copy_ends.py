"""How mirror jobs end when the copy cannot or must not finish (SQLite and PostgreSQL).

- a video over ``mirror_max_bytes`` fails the task at once with the reason and a refundable
  failure, not retried as a transient failure; an optional file over it is skipped;
- the media store refusing the write counts attempts and fails the task after the last one;
  so does an attempt that breaks unexpectedly: never retried for ever;
- a task cancelled while its job waits (or while a file is being written) is never completed
  by the job; the job closes and the files it had kept are removed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from lumagate.domain.clock import utcnow
from lumagate.domain.mirroring import DROPPED_REASON, MirrorJob, MirrorState
from lumagate.domain.states import TaskState
from lumagate.service.cancels import TaskCancels
from tests.support.mirror_rig import (
    BIG_VIDEO,
    MAX_BYTES,
    THUMB,
    VIDEO,
    Rig,
    completed_upstream,
    due_at,
    files,
    kept_bytes,
    rig,
    submitted,
    task_now,
    upstream_media,
)
from tests.support.waiting import async_wait_until

__all__ = ["files", "rig"]


def _mirror_files(rig: Rig) -> list[Path]:
    folder = rig.media.root / "mirrors"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


async def _job(rig: Rig, task_id: str) -> MirrorJob:
    job = await rig.mirrors.get(task_id)
    assert job is not None
    return job


async def _after_backoff(rig: Rig, task_id: str) -> None:
    due = await due_at(rig, task_id)
    await async_wait_until(lambda: utcnow() >= due, "the backoff passed", timeout=5)


async def test_a_video_over_the_size_limit_fails_the_task_at_once(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (200, BIG_VIDEO), "/t.jpg": (200, THUMB)})
    task = await submitted(rig)
    await completed_upstream(rig, task, upstream_media(rig))
    assert await rig.worker.run_once() == 1
    failed = await task_now(rig, task.id)
    assert failed.state == TaskState.FAILED and failed.media is None
    assert failed.failure_reason == (
        "The upstream's video is too large to keep (the limit, LUMAGATE_MIRROR_MAX_BYTES, is "
        f"{MAX_BYTES} bytes): the file at 127.0.0.1 is larger than 195.3 KB"
    )
    job = await _job(rig, task.id)
    assert job.state == MirrorState.FAILED and job.attempts == 0  # not one retry
    assert rig.files.hits == Counter({"/v.mp4": 1})  # neither retried nor refreshed
    assert rig.provider.download_calls == 0
    assert _mirror_files(rig) == []  # the partial file is not kept


async def test_an_optional_file_over_the_size_limit_is_skipped(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (200, VIDEO), "/t.jpg": (200, BIG_VIDEO)})
    task = await submitted(rig)
    await completed_upstream(rig, task, upstream_media(rig))
    await rig.worker.run_once()
    done = await task_now(rig, task.id)
    assert done.state == TaskState.COMPLETED and done.media is not None
    assert kept_bytes(rig, done.media.video) == VIDEO
    assert done.media.thumbnail is None
    assert rig.files.hits == Counter({"/v.mp4": 1, "/t.jpg": 1})


async def test_a_media_store_that_refuses_the_write_fails_after_the_attempts(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (200, VIDEO)})
    rig.sink.refuse = True
    task = await submitted(rig)
    await completed_upstream(rig, task, upstream_media(rig))
    await rig.worker.run_once()
    job = await _job(rig, task.id)
    assert job.state == MirrorState.PENDING and job.attempts == 1
    assert job.last_error == (
        "the media store refused the file: the media store failed: PermissionDenied"
    )
    assert (await task_now(rig, task.id)).state == TaskState.PROCESSING
    await _after_backoff(rig, task.id)
    await rig.worker.run_once()  # the second of the rig's two attempts: the last
    failed = await task_now(rig, task.id)
    assert failed.state == TaskState.FAILED
    assert failed.failure_reason == (
        "The video could not be copied from the upstream after 2 attempts: "
        "the media store refused the file: the media store failed: PermissionDenied"
    )
    assert (await _job(rig, task.id)).state == MirrorState.FAILED
    assert rig.sink.writes == 2
    assert await rig.worker.run_once() == 0  # nothing left to try


async def test_an_attempt_that_breaks_unexpectedly_is_counted(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (200, VIDEO)})

    async def crash() -> None:
        raise RuntimeError("a bug in the copier")

    task = await submitted(rig)
    await completed_upstream(rig, task, upstream_media(rig))
    rig.sink.while_writing = crash
    await rig.worker.run_once()
    job = await _job(rig, task.id)
    assert job.state == MirrorState.PENDING and job.attempts == 1
    assert job.last_error == "an internal error (RuntimeError)"
    rig.sink.while_writing = crash
    await _after_backoff(rig, task.id)
    await rig.worker.run_once()
    failed = await task_now(rig, task.id)
    assert failed.state == TaskState.FAILED
    assert failed.failure_reason is not None and "after 2 attempts" in failed.failure_reason


async def test_a_task_cancelled_while_its_job_waits_is_not_completed(rig: Rig) -> None:
    # The video is kept, the thumbnail's storage is down: the job waits a backoff.
    rig.files.routes.update({"/v.mp4": (200, VIDEO), "/t.jpg": (503, b"busy")})
    task = await submitted(rig)
    await completed_upstream(rig, task, upstream_media(rig))
    await rig.worker.run_once()
    job = await _job(rig, task.id)
    assert set(job.copied) == {"video"} and job.state == MirrorState.PENDING
    video = rig.media.path_for(job.copied["video"])
    assert video.read_bytes() == VIDEO

    cancelled = await TaskCancels(rig.ctx.tasks).cancel(task.id, tenant_id=None, reason="no")
    assert cancelled.state == TaskState.CANCELLED
    rig.files.routes["/t.jpg"] = (200, THUMB)  # the copy could now finish
    await _after_backoff(rig, task.id)
    assert await rig.worker.run_once() == 1
    after = await task_now(rig, task.id)
    assert after.state == TaskState.CANCELLED and after.media is None
    dropped = await _job(rig, task.id)
    assert dropped.state == MirrorState.FAILED and dropped.last_error == DROPPED_REASON
    assert not video.exists() and _mirror_files(rig) == []
    assert rig.files.hits["/t.jpg"] == 1  # not fetched for a cancelled task
    assert await rig.worker.run_once() == 0


async def test_a_cancel_during_the_copy_drops_every_kept_file(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (200, VIDEO), "/t.jpg": (200, THUMB)})
    task = await submitted(rig)
    await completed_upstream(rig, task, upstream_media(rig))
    cancels = TaskCancels(rig.ctx.tasks)
    writes_before = rig.sink.writes

    async def cancel_now() -> None:
        await cancels.cancel(task.id, tenant_id=None, reason="changed my mind")

    rig.sink.while_writing = cancel_now  # while the video is written
    await rig.worker.run_once()
    after = await task_now(rig, task.id)
    assert after.state == TaskState.CANCELLED and after.media is None
    job = await _job(rig, task.id)
    assert job.state == MirrorState.FAILED and job.last_error == DROPPED_REASON
    assert rig.sink.writes - writes_before == 2  # both files were written, then removed
    assert _mirror_files(rig) == []
    assert set(job.copied) == {"video", "thumbnail"}
    assert not any(rig.media.path_for(key).exists() for key in job.copied.values())
