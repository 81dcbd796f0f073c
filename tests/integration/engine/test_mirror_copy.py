"""Mirror jobs against a real database (SQLite and PostgreSQL), a real media store and a real
file server on loopback; the provider is a stand-in that hands out the links a test chooses.

A completion is held in ``processing`` with its job stored; an attempt copies every file through
the guarded fetcher and completes the task with gateway links; an expired link is replaced
through ``download_url``; a lost video fails the task; transient failures back off and end in
a failure after the last attempt; files kept before a failed attempt are not copied again.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.mirroring import MirrorState
from lumagate.domain.request import GenerationRequest, media_key
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, TaskMedia
from lumagate.engine.context import EngineContext
from lumagate.engine.events import TaskEvents
from lumagate.engine.mirror_copy import MirrorCopier
from lumagate.engine.mirroring import MirrorFetchers, MirrorWorker
from lumagate.engine.outcomes import apply_job
from lumagate.engine.signals import EngineSignals
from lumagate.media.store import MediaStore
from lumagate.providers.base import UpstreamJob, UpstreamState
from lumagate.providers.registry import ProviderRegistry
from lumagate.security.crypto import SecretBox
from lumagate.settings import Settings
from lumagate.store import migrate
from lumagate.store.accounts import AccountStore
from lumagate.store.database import Database
from lumagate.store.mirrors import MirrorStore
from lumagate.store.pool import PoolStore
from lumagate.store.tasks import NewTask, TaskStore
from lumagate.store.unit_of_work import Transactions
from tests.support.waiting import async_wait_until

VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 400  # ~100 KB, several chunks
FRESH_VIDEO = VIDEO[::-1]
THUMB = b"\xff\xd8\xff\xe0" + b"thumbnail" * 50


class Files:
    """A loopback file server: ``routes[path] = (status, body)``; ``hits`` counts GETs."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes]] = {}
        self.hits: Counter[str] = Counter()
        files = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                files.hits[path] += 1
                status, body = files.routes.get(path, (404, b"not found"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class LinkGiver:
    """The provider stand-in: ``refresh_many`` and ``download_url`` give what the test set."""

    kind: str = "fake"
    fresh_video: str | None = None
    download_calls: int = 0
    refreshed: list[str] = field(default_factory=list)

    async def refresh_many(
        self, account: AccountHandle, upstream_ids: Sequence[str]
    ) -> dict[str, UpstreamJob]:
        self.refreshed.extend(upstream_ids)
        return {}

    async def download_url(self, account: AccountHandle, upstream_id: str) -> str | None:
        self.download_calls += 1
        return self.fresh_video

    async def close(self) -> None:
        return None


@dataclass
class Rig:
    ctx: EngineContext
    mirrors: MirrorStore
    media: MediaStore
    worker: MirrorWorker
    files: Files
    provider: LinkGiver
    account: AccountHandle

    def link(self, path: str) -> str:
        return self.files.url + path


@pytest.fixture
def files() -> Iterator[Files]:
    server = Files()
    yield server
    server.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrate.upgrade(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def rig(db: Database, files: Files, tmp_path: Path) -> AsyncIterator[Rig]:
    settings = Settings(
        data_dir=tmp_path,
        mirror_attempts=2,
        mirror_backoff_base_seconds=0.05,
        mirror_backoff_cap_seconds=0.1,
    )
    box = SecretBox(Fernet.generate_key())
    accounts = AccountStore(db, box)
    ctx = EngineContext(
        settings=settings,
        tasks=TaskStore(db),
        accounts=accounts,
        pool=PoolStore(db),
        transactions=Transactions(db),
        providers=ProviderRegistry(),
        signals=EngineSignals(),
        events=TaskEvents(),
        replica_id="replica-test",
        single_node=False,
        mirrors=MirrorStore(db),
    )
    provider = LinkGiver()
    ctx.providers.register(provider)  # type: ignore[arg-type]
    created = await accounts.create(name="up", kind="fake", base_url=files.url, now=utcnow())
    handle = await accounts.load_handle(created.id)
    assert handle is not None
    media = MediaStore(tmp_path / "media", "http://gw.test")
    fetchers = MirrorFetchers(settings)
    assert ctx.mirrors is not None
    copier = MirrorCopier(ctx, ctx.mirrors, media, fetchers.for_account)
    try:
        yield Rig(
            ctx, ctx.mirrors, media, MirrorWorker(ctx, ctx.mirrors, copier), files, provider, handle
        )
    finally:
        await fetchers.aclose()


async def _submitted(rig: Rig) -> Task:
    now = utcnow()
    new = NewTask(str(uuid.uuid4()), "tenant", Channel.DEFAULT, "reseller", GenerationRequest())
    async with rig.ctx.transactions.begin() as work:
        task = await work.tasks.insert(new, now)
    tasks = rig.ctx.tasks
    leased = await tasks.transition(task, TaskState.SUBMITTING, now, account_id=rig.account.id)
    assert leased is not None
    submitted = await tasks.transition(leased, TaskState.SUBMITTED, now, upstream_id="up-1")
    assert submitted is not None
    return submitted


def _media(rig: Rig, video: str = "/v.mp4") -> TaskMedia:
    return TaskMedia(
        video=rig.link(video + "?wm=1"),
        width=640,
        height=360,
        download=rig.link(video),
        thumbnail=rig.link("/t.jpg"),
    )


async def _completed_upstream(rig: Rig, task: Task, media: TaskMedia) -> Task | None:
    job = UpstreamJob("up-1", UpstreamState.COMPLETED, progress=100, media=media)
    return await apply_job(rig.ctx, task, job, utcnow(), rig.account)


async def _state(rig: Rig, task_id: str) -> Task:
    task = await rig.ctx.tasks.get(task_id)
    assert task is not None
    return task


def _kept_bytes(rig: Rig, ref: str | None) -> bytes:
    assert ref is not None and ref.startswith("media:mirrors/"), ref
    return rig.media.path_for(media_key(ref)).read_bytes()


async def test_a_completion_is_held_until_its_files_are_kept(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (200, VIDEO), "/t.jpg": (200, THUMB)})
    task = await _submitted(rig)
    held = await _completed_upstream(rig, task, _media(rig))
    assert held is not None and held.state == TaskState.PROCESSING and held.progress == 99
    assert held.media is None  # no upstream link is ever shown
    job = await rig.mirrors.get(task.id)
    assert job is not None and job.state == MirrorState.PENDING
    # A second report of the completion (a duplicate callback) changes nothing.
    assert await _completed_upstream(rig, held, _media(rig)) is None
    again = await rig.mirrors.get(task.id)
    assert again is not None and again.prefix == job.prefix

    assert await rig.worker.run_once() == 1
    done = await _state(rig, task.id)
    assert done.state == TaskState.COMPLETED and done.progress == 100
    assert done.media is not None
    assert _kept_bytes(rig, done.media.video) == VIDEO
    assert done.media.download == done.media.video
    assert _kept_bytes(rig, done.media.thumbnail) == THUMB
    assert rig.files.hits == Counter({"/v.mp4": 1, "/t.jpg": 1})  # the watermarked one: never
    finished = await rig.mirrors.get(task.id)
    assert finished is not None and finished.state == MirrorState.DONE
    assert await rig.worker.run_once() == 0


async def test_an_expired_link_is_replaced_through_download_url(rig: Rig) -> None:
    rig.files.routes.update(
        {"/v.mp4": (403, b"expired"), "/fresh.mp4": (200, FRESH_VIDEO), "/t.jpg": (200, THUMB)}
    )
    rig.provider.fresh_video = rig.link("/fresh.mp4")
    task = await _submitted(rig)
    await _completed_upstream(rig, task, _media(rig))
    await rig.worker.run_once()
    done = await _state(rig, task.id)
    assert done.state == TaskState.COMPLETED, done.failure_reason
    assert done.media is not None and _kept_bytes(rig, done.media.video) == FRESH_VIDEO
    assert rig.provider.download_calls == 1 and rig.provider.refreshed == ["up-1"]
    job = await rig.mirrors.get(task.id)
    assert job is not None and job.source.download == rig.link("/fresh.mp4")


async def test_an_upstream_that_cannot_give_the_video_fails_the_task(rig: Rig) -> None:
    rig.files.routes.update({"/t.jpg": (200, THUMB)})  # the video answers 404
    task = await _submitted(rig)
    await _completed_upstream(rig, task, _media(rig))
    await rig.worker.run_once()
    failed = await _state(rig, task.id)
    assert failed.state == TaskState.FAILED and failed.media is None
    assert failed.failure_reason is not None
    assert failed.failure_reason.startswith("The upstream no longer gives this task's video")
    assert "HTTP 404" in failed.failure_reason
    assert rig.provider.download_calls == 1  # a fresh link was asked for before giving up
    job = await rig.mirrors.get(task.id)
    assert job is not None and job.state == MirrorState.FAILED


async def _due(rig: Rig, task_id: str) -> datetime:
    job = await rig.mirrors.get(task_id)
    assert job is not None and job.next_attempt_at is not None
    return job.next_attempt_at


async def test_transient_failures_back_off_then_fail_after_the_last_attempt(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (503, b"busy")})
    task = await _submitted(rig)
    await _completed_upstream(rig, task, _media(rig))
    await rig.worker.run_once()
    job = await rig.mirrors.get(task.id)
    assert job is not None and job.state == MirrorState.PENDING and job.attempts == 1
    assert job.last_error == "HTTP 503 from 127.0.0.1"
    assert (await _state(rig, task.id)).state == TaskState.PROCESSING
    assert rig.provider.download_calls == 0  # an outage is waited out, not refreshed
    due = await _due(rig, task.id)
    assert due > utcnow()
    await async_wait_until(lambda: utcnow() >= due, "the backoff passed", timeout=5)
    await rig.worker.run_once()
    failed = await _state(rig, task.id)
    assert failed.state == TaskState.FAILED
    assert failed.failure_reason == (
        "The video could not be copied from the upstream after 2 attempts: HTTP 503 from 127.0.0.1"
    )


async def test_files_kept_before_a_failed_attempt_are_not_copied_again(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (200, VIDEO), "/t.jpg": (502, b"busy")})
    task = await _submitted(rig)
    await _completed_upstream(rig, task, _media(rig))
    await rig.worker.run_once()
    job = await rig.mirrors.get(task.id)
    assert job is not None and set(job.copied) == {"video"} and job.attempts == 1
    rig.files.routes["/t.jpg"] = (200, THUMB)
    due = await _due(rig, task.id)
    await async_wait_until(lambda: utcnow() >= due, "the backoff passed", timeout=5)
    await rig.worker.run_once()
    done = await _state(rig, task.id)
    assert done.state == TaskState.COMPLETED and done.media is not None
    assert _kept_bytes(rig, done.media.thumbnail) == THUMB
    assert rig.files.hits["/v.mp4"] == 1 and rig.files.hits["/t.jpg"] == 2


async def test_a_job_held_by_another_replica_waits_for_its_hold(rig: Rig) -> None:
    rig.files.routes.update({"/v.mp4": (200, VIDEO)})
    task = await _submitted(rig)
    await _completed_upstream(rig, task, TaskMedia(rig.link("/v.mp4"), 640, 360))
    hold = rig.worker.hold
    taken = await rig.mirrors.claim_due("other-replica", utcnow(), hold, 10)
    assert [j.task_id for j in taken] == [task.id]
    assert await rig.worker.run_once() == 0  # held: not copied a second time
    assert rig.files.hits["/v.mp4"] == 0
    assert await rig.mirrors.release_all_held(utcnow()) == 1  # single node, at start-up
    assert await rig.worker.run_once() == 1
    assert (await _state(rig, task.id)).state == TaskState.COMPLETED
    assert rig.files.hits["/v.mp4"] == 1


async def test_a_link_the_ssrf_guard_refuses_fails_the_task_unfetched(rig: Rig) -> None:
    task = await _submitted(rig)
    private = TaskMedia("http://10.255.255.1/v.mp4", 640, 360)  # not the account's host
    await _completed_upstream(rig, task, private)
    await rig.worker.run_once()
    failed = await _state(rig, task.id)
    assert failed.state == TaskState.FAILED
    assert failed.failure_reason == (
        "The upstream's video link is not allowed: 10.255.255.1 is not a public address"
    )
    assert rig.provider.download_calls == 0
