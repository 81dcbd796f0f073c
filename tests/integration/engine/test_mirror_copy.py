"""Mirror jobs against a real database (SQLite and PostgreSQL), a real media store and a real
file server on loopback; the provider is a stand-in that hands out the links a test chooses.

A completion is held in ``processing`` with its job stored; an attempt copies every file through
the guarded fetcher and completes the task with gateway links; an expired link is replaced
through ``download_url``; a lost video fails the task; transient failures back off and end in
a failure after the last attempt; files kept before a failed attempt are not copied again.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from lumagate.domain.clock import utcnow
from lumagate.domain.mirroring import MirrorState
from lumagate.domain.states import TaskState
from lumagate.domain.task import TaskMedia
from tests.support.mirror_rig import (
    FRESH_VIDEO,
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


async def test_a_completion_is_held_until_its_files_are_kept(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (200, VIDEO), "/t.jpg": (200, THUMB)})
    task = await submitted(rig)
    held = await completed_upstream(rig, task, upstream_media(rig))
    assert held is not None and held.state == TaskState.PROCESSING and held.progress == 99
    assert held.media is None  # no upstream link is ever shown
    job = await rig.mirrors.get(task.id)
    assert job is not None and job.state == MirrorState.PENDING
    # A second report of the completion (a duplicate callback) changes nothing.
    assert await completed_upstream(rig, held, upstream_media(rig)) is None
    again = await rig.mirrors.get(task.id)
    assert again is not None and again.prefix == job.prefix

    assert await rig.worker.run_once() == 1
    done = await task_now(rig, task.id)
    assert done.state == TaskState.COMPLETED and done.progress == 100
    assert done.media is not None
    assert kept_bytes(rig, done.media.video) == VIDEO
    assert done.media.download == done.media.video
    assert kept_bytes(rig, done.media.thumbnail) == THUMB
    assert rig.files.hits == Counter({"/v.mp4": 1, "/t.jpg": 1})  # the watermarked one: never
    finished = await rig.mirrors.get(task.id)
    assert finished is not None and finished.state == MirrorState.DONE
    assert await rig.worker.run_once() == 0


async def test_an_expired_link_is_replaced_through_download_url(rig: Rig) -> None:
    rig.files.routes.update(
        {"/v.mp4": (403, b"expired"), "/fresh.mp4": (200, FRESH_VIDEO), "/t.jpg": (200, THUMB)}
    )
    rig.provider.fresh_video = rig.link("/fresh.mp4")
    task = await submitted(rig)
    await completed_upstream(rig, task, upstream_media(rig))
    await rig.worker.run_once()
    done = await task_now(rig, task.id)
    assert done.state == TaskState.COMPLETED, done.failure_reason
    assert done.media is not None and kept_bytes(rig, done.media.video) == FRESH_VIDEO
    assert rig.provider.download_calls == 1 and rig.provider.refreshed == ["up-1"]
    job = await rig.mirrors.get(task.id)
    assert job is not None and job.source.download == rig.link("/fresh.mp4")


async def test_an_upstream_that_cannot_give_the_video_fails_the_task(rig: Rig) -> None:
    rig.files.routes.update({"/t.jpg": (200, THUMB)})  # the video answers 404
    task = await submitted(rig)
    await completed_upstream(rig, task, upstream_media(rig))
    await rig.worker.run_once()
    failed = await task_now(rig, task.id)
    assert failed.state == TaskState.FAILED and failed.media is None
    assert failed.failure_reason is not None
    assert failed.failure_reason.startswith("The upstream no longer gives this task's video")
    assert "HTTP 404" in failed.failure_reason
    assert rig.provider.download_calls == 1  # a fresh link was asked for before giving up
    job = await rig.mirrors.get(task.id)
    assert job is not None and job.state == MirrorState.FAILED


async def test_transient_failures_back_off_then_fail_after_the_last_attempt(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (503, b"busy")})
    task = await submitted(rig)
    await completed_upstream(rig, task, upstream_media(rig))
    attempted = utcnow()
    await rig.worker.run_once()
    job = await rig.mirrors.get(task.id)
    assert job is not None and job.state == MirrorState.PENDING and job.attempts == 1
    assert job.last_error == "HTTP 503 from 127.0.0.1"
    assert (await task_now(rig, task.id)).state == TaskState.PROCESSING
    assert rig.provider.download_calls == 0  # an outage is waited out, not refreshed
    due = await due_at(rig, task.id)
    # The first retry waits at least half the base backoff after the failed attempt (0.05 s in
    # the rig; RetryPolicy draws from [ceiling/2, ceiling]); measured from before the attempt,
    # so a slow machine cannot make the check fail.
    assert due >= attempted + timedelta(seconds=0.025)
    await async_wait_until(lambda: utcnow() >= due, "the backoff passed", timeout=5)
    await rig.worker.run_once()
    failed = await task_now(rig, task.id)
    assert failed.state == TaskState.FAILED
    assert failed.failure_reason == (
        "The video could not be copied from the upstream after 2 attempts: HTTP 503 from 127.0.0.1"
    )


async def test_files_kept_before_a_failed_attempt_are_not_copied_again(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (200, VIDEO), "/t.jpg": (502, b"busy")})
    task = await submitted(rig)
    await completed_upstream(rig, task, upstream_media(rig))
    await rig.worker.run_once()
    job = await rig.mirrors.get(task.id)
    assert job is not None and set(job.copied) == {"video"} and job.attempts == 1
    rig.files.routes["/t.jpg"] = (200, THUMB)
    due = await due_at(rig, task.id)
    await async_wait_until(lambda: utcnow() >= due, "the backoff passed", timeout=5)
    await rig.worker.run_once()
    done = await task_now(rig, task.id)
    assert done.state == TaskState.COMPLETED and done.media is not None
    assert kept_bytes(rig, done.media.thumbnail) == THUMB
    assert rig.files.hits["/v.mp4"] == 1 and rig.files.hits["/t.jpg"] == 2


async def test_a_job_held_by_another_replica_waits_for_its_hold(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (200, VIDEO)})
    task = await submitted(rig)
    await completed_upstream(rig, task, TaskMedia(rig.link("/v.mp4"), 640, 360))
    hold = rig.worker.hold
    taken = await rig.mirrors.claim_due("other-replica", utcnow(), hold, 10)
    assert [j.task_id for j in taken] == [task.id]
    assert await rig.worker.run_once() == 0  # held: not copied a second time
    assert rig.files.hits["/v.mp4"] == 0
    assert await rig.mirrors.release_all_held(utcnow()) == 1  # single node, at start-up
    assert await rig.worker.run_once() == 1
    assert (await task_now(rig, task.id)).state == TaskState.COMPLETED
    assert rig.files.hits["/v.mp4"] == 1


async def test_a_link_the_ssrf_guard_refuses_fails_the_task_unfetched(rig: Rig) -> None:
    task = await submitted(rig)
    private = TaskMedia("http://10.255.255.1/v.mp4", 640, 360)  # not the account's host
    await completed_upstream(rig, task, private)
    await rig.worker.run_once()
    failed = await task_now(rig, task.id)
    assert failed.state == TaskState.FAILED
    assert failed.failure_reason == (
        "The upstream's video link is not allowed: 10.255.255.1 is not a public address"
    )
    assert rig.provider.download_calls == 0
