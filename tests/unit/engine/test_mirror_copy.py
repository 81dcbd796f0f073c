"""MirrorCopier over real stores (a fresh SQLite file), an in-memory fetcher and media sink and
a fake provider: a job keeps every file and completes its task; an expired link is replaced
once by the provider's fresh one; the task fails (so is refunded) only when its video cannot
be had or is too large; an optional file that cannot be had is skipped, never failing a task
whose video is kept; a media store that refuses counts attempts; a task that ended meanwhile
never completes, and the files its job kept are removed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.clock import utcnow
from lumagate.domain.fetching import FetchedStream, FetchFailed, StreamFetcher, TooLarge
from lumagate.domain.mirroring import DROPPED_REASON, SKIPPED, MirrorJob, MirrorState, gone_reason
from lumagate.domain.request import media_ref
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, TaskMedia
from lumagate.engine.context import EngineContext
from lumagate.engine.mirror_copy import MirrorCopier
from lumagate.media.keys import MediaUnavailable
from lumagate.providers.base import UpstreamJob
from lumagate.service.cancels import TaskCancels
from lumagate.wiring.stores import Stores
from tests.support.stores import engine_context, held_for_copy, reread, stored_account

VIDEO, THUMB, FRESH = b"video-bytes" * 10, b"thumb-bytes", b"fresh-video"
GONE = FetchFailed("403 Forbidden", status=403)


class Upstream:
    """The fetcher: ``routes[url]`` is a body (given in two chunks) or the error opening it
    raises; ``opened`` the URLs asked for, in order."""

    def __init__(self, routes: Mapping[str, bytes | Exception]) -> None:
        self.routes = dict(routes)
        self.opened: list[str] = []

    @contextlib.asynccontextmanager
    async def stream(self, url: str) -> AsyncIterator[FetchedStream]:
        self.opened.append(url)
        found = self.routes.get(url, FetchFailed("404 Not Found", status=404))
        if isinstance(found, Exception):
            raise found

        async def chunks() -> AsyncIterator[bytes]:
            yield found[: len(found) // 2]
            yield found[len(found) // 2 :]

        yield FetchedStream("application/octet-stream", "up.test", chunks())


@dataclass
class Sink:
    """The media store: ``files`` kept by key; ``refuse``: every write fails."""

    refuse: bool = False
    files: dict[str, bytes] = field(default_factory=dict)

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> None:
        if self.refuse:
            raise MediaUnavailable("the media store failed: PermissionDenied")
        self.files[key] = b"".join([chunk async for chunk in chunks])

    async def delete(self, key: str) -> bool:
        return self.files.pop(key, None) is not None


@dataclass
class LinkGiver:
    """The provider's part the copier calls: ``fresh_video`` from ``download_url``."""

    kind: str = "relay"
    fresh_video: str | None = None
    download_calls: int = 0

    async def refresh_many(
        self, account: AccountHandle, upstream_ids: Sequence[str]
    ) -> dict[str, UpstreamJob]:
        return {}

    async def download_url(self, account: AccountHandle, upstream_id: str) -> str | None:
        self.download_calls += 1
        return self.fresh_video


MEDIA = TaskMedia(
    video="http://up.test/v.mp4?wm=1",
    width=640,
    height=360,
    download="http://up.test/v.mp4",
    thumbnail="http://up.test/t.jpg",
)


@pytest.fixture
def ctx(stores: Stores) -> EngineContext:
    return engine_context(stores, mirror_attempts=2, mirror_max_bytes=1000)


def _copier(ctx: EngineContext, stores: Stores, upstream: Upstream, sink: Sink) -> MirrorCopier:
    def fetcher_for(account: AccountHandle | None) -> StreamFetcher:
        return upstream

    return MirrorCopier(ctx, stores.mirrors, sink, fetcher_for)


async def _with_account(stores: Stores, ctx: EngineContext, provider: LinkGiver) -> str:
    ctx.providers.register(provider)  # type: ignore[arg-type]
    return (await stored_account(stores)).id


async def _job(stores: Stores, job: MirrorJob) -> MirrorJob:
    found = await stores.mirrors.get(job.task_id)
    assert found is not None
    return found


async def _attempt(
    ctx: EngineContext, stores: Stores, upstream: Upstream, sink: Sink, account_id: str | None
) -> tuple[Task, MirrorJob]:
    """One attempt of a fresh job of MEDIA: the task and the job as stored after it."""
    task, job = await held_for_copy(stores, MEDIA, owner=ctx.replica_id, account_id=account_id)
    await _copier(ctx, stores, upstream, sink).attempt(job)
    return await reread(stores, task), await _job(stores, job)


async def test_a_job_keeps_every_file_and_completes_its_task(
    ctx: EngineContext, stores: Stores
) -> None:
    upstream, sink = Upstream({MEDIA.best_download: VIDEO, "http://up.test/t.jpg": THUMB}), Sink()
    task, job = await _attempt(ctx, stores, upstream, sink, None)
    assert task.state == TaskState.COMPLETED and task.progress == 100
    assert job.state == MirrorState.DONE
    video_key, thumb_key = job.copied["video"], job.copied["thumbnail"]
    assert sink.files == {video_key: VIDEO, thumb_key: THUMB}
    assert task.media is not None
    assert task.media.video == task.media.download == media_ref(video_key)
    assert task.media.thumbnail == media_ref(thumb_key)
    assert upstream.opened[0] == MEDIA.best_download  # the video first


async def test_an_expired_video_link_is_replaced_once_by_the_providers_fresh_one(
    ctx: EngineContext, stores: Stores
) -> None:
    provider = LinkGiver(fresh_video="http://up.test/fresh.mp4")
    account_id = await _with_account(stores, ctx, provider)
    routes = {MEDIA.best_download: GONE, "http://up.test/fresh.mp4": FRESH, MEDIA.thumbnail: THUMB}
    upstream, sink = Upstream(routes), Sink()
    task, job = await _attempt(ctx, stores, upstream, sink, account_id)
    assert task.state == TaskState.COMPLETED, task.failure_reason
    assert sink.files[job.copied["video"]] == FRESH
    assert job.source.download == "http://up.test/fresh.mp4"  # the fresh links were recorded
    assert provider.download_calls == 1


async def test_a_video_link_still_expired_once_refreshed_fails_the_task(
    ctx: EngineContext, stores: Stores
) -> None:
    provider = LinkGiver(fresh_video="http://up.test/fresh.mp4")
    account_id = await _with_account(stores, ctx, provider)
    upstream = Upstream({MEDIA.best_download: GONE, "http://up.test/fresh.mp4": GONE})
    task, job = await _attempt(ctx, stores, upstream, Sink(), account_id)
    assert task.state == TaskState.FAILED
    assert task.failure_reason == gone_reason("403 Forbidden")
    assert job.state == MirrorState.FAILED and job.last_error == task.failure_reason
    assert provider.download_calls == 1  # refreshed once per attempt, never more


async def test_an_expired_link_of_a_kind_this_replica_cannot_call_spends_no_attempt(
    ctx: EngineContext, stores: Stores
) -> None:
    """A rolling upgrade: the account's kind has no provider here. The job waits for a replica
    that knows the kind, with its attempts untouched (two would fail the task here:
    ``mirror_attempts=2``), however often this replica claims it."""
    account_id = (await stored_account(stores)).id  # "relay": no provider registered
    upstream = Upstream({MEDIA.best_download: GONE, MEDIA.thumbnail: THUMB})
    task, job = await held_for_copy(stores, MEDIA, owner=ctx.replica_id, account_id=account_id)
    copier = _copier(ctx, stores, upstream, Sink())
    for tried in range(3):
        if tried:  # claimed again, past any backoff the last attempt set
            later = utcnow() + timedelta(days=1)
            [job] = await stores.mirrors.claim_due(ctx.replica_id, later, timedelta(minutes=1), 1)
        await copier.attempt(job)
        task, job = await reread(stores, task), await _job(stores, job)
        assert task.state not in (TaskState.FAILED, TaskState.COMPLETED)
        assert job.state == MirrorState.PENDING and job.attempts == 0
        assert job.next_attempt_at is not None and job.next_attempt_at > utcnow()
        assert job.last_error is not None and "'relay'" in job.last_error
    assert upstream.opened == [MEDIA.best_download] * 3  # the video first, nothing after it


async def test_the_expired_video_of_a_removed_account_fails_the_task(
    ctx: EngineContext, stores: Stores
) -> None:
    upstream = Upstream({MEDIA.best_download: GONE, MEDIA.thumbnail: THUMB})
    task, job = await _attempt(ctx, stores, upstream, Sink(), None)
    assert task.state == TaskState.FAILED
    assert task.failure_reason == gone_reason("its upstream account was removed")
    assert job.state == MirrorState.FAILED
    assert upstream.opened == [MEDIA.best_download]  # a failing video costs no other download


async def test_a_video_over_the_limit_fails_the_task_with_no_attempt_left_to_retry(
    ctx: EngineContext, stores: Stores
) -> None:
    upstream = Upstream({MEDIA.best_download: TooLarge("over 1000 bytes")})
    task, job = await _attempt(ctx, stores, upstream, Sink(), None)
    assert task.state == TaskState.FAILED and task.failure_reason is not None
    assert "too large" in task.failure_reason and "1000 bytes" in task.failure_reason
    assert job.state == MirrorState.FAILED and job.attempts == 0


async def test_an_optional_file_that_cannot_be_had_is_skipped_and_the_task_completes(
    ctx: EngineContext, stores: Stores
) -> None:
    # the thumbnail's link expired and no fresh one can be had (its account was removed):
    # the video is kept, so the task completes without a thumbnail rather than failing
    upstream, sink = Upstream({MEDIA.best_download: VIDEO, MEDIA.thumbnail: GONE}), Sink()
    task, job = await _attempt(ctx, stores, upstream, sink, None)
    assert task.state == TaskState.COMPLETED, task.failure_reason
    assert job.copied["thumbnail"] == SKIPPED
    assert task.media is not None and task.media.thumbnail is None
    assert sink.files == {job.copied["video"]: VIDEO}


async def test_a_media_store_that_refuses_counts_attempts_until_the_task_fails(
    ctx: EngineContext, stores: Stores
) -> None:
    upstream, sink = Upstream({MEDIA.best_download: VIDEO}), Sink(refuse=True)
    task, job = await _attempt(ctx, stores, upstream, sink, None)
    assert task.state == TaskState.PROCESSING
    assert job.state == MirrorState.PENDING and job.attempts == 1
    assert job.last_error is not None and "media store refused" in job.last_error
    assert job.next_attempt_at is not None and job.next_attempt_at > task.updated_at
    await _copier(ctx, stores, upstream, sink).attempt(job)  # the last of mirror_attempts=2
    failed = await reread(stores, task)
    assert failed.state == TaskState.FAILED and failed.failure_reason is not None
    assert "after 2 attempts" in failed.failure_reason


async def test_a_task_cancelled_meanwhile_never_completes_and_its_copies_are_removed(
    ctx: EngineContext, stores: Stores
) -> None:
    task, job = await held_for_copy(stores, MEDIA, owner=ctx.replica_id)
    sink = Sink(files={f"{job.prefix}/thumbnail.jpg": THUMB})
    await stores.mirrors.record_copied(
        task.id, ctx.replica_id, {"thumbnail": f"{job.prefix}/thumbnail.jpg"}, task.updated_at
    )
    await TaskCancels(stores.tasks).cancel(task.id, tenant_id=None, reason="r")
    upstream = Upstream({MEDIA.best_download: VIDEO})
    await _copier(ctx, stores, upstream, sink).attempt(await _job(stores, job))
    assert (await reread(stores, task)).state == TaskState.CANCELLED
    closed = await _job(stores, job)
    assert closed.state == MirrorState.FAILED and closed.last_error == DROPPED_REASON
    assert sink.files == {} and upstream.opened == []
