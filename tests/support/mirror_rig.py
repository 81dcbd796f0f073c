"""A rig for mirror-job tests: a real database, media store and loopback file server.

The provider is a stand-in that hands out the links a test chooses; the media store is the
real data-dir store behind :class:`Sink`, which can refuse writes (a full disk, a bucket that
denies) or run a hook while a file is written (a cancel that arrives mid-copy).
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
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
from lumagate.domain.request import GenerationRequest, media_key
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, TaskMedia
from lumagate.engine.context import EngineContext
from lumagate.engine.events import TaskEvents
from lumagate.engine.mirror_copy import MirrorCopier
from lumagate.engine.mirroring import MirrorFetchers, MirrorWorker
from lumagate.engine.outcomes import apply_job
from lumagate.engine.signals import EngineSignals
from lumagate.media.keys import MediaUnavailable
from lumagate.media.store import MediaStore
from lumagate.providers.base import UpstreamJob, UpstreamState
from lumagate.providers.registry import ProviderRegistry
from lumagate.security.crypto import SecretBox
from lumagate.settings import Settings
from lumagate.store.accounts import AccountStore
from lumagate.store.database import Database
from lumagate.store.mirrors import MirrorStore
from lumagate.store.pool import PoolStore
from lumagate.store.tasks import NewTask, TaskStore
from lumagate.store.unit_of_work import Transactions

VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 400  # ~100 KB, several chunks
FRESH_VIDEO = VIDEO[::-1]
THUMB = b"\xff\xd8\xff\xe0" + b"thumbnail" * 50
BIG_VIDEO = VIDEO * 3  # over MAX_BYTES


MAX_BYTES = 200_000  # the rig's ``mirror_max_bytes``: VIDEO fits, BIG_VIDEO does not


@dataclass
class Sink:
    """The media store as the copier sees it; ``refuse`` makes every write fail as a bucket
    that denies it would, ``while_writing`` runs once during the next write."""

    store: MediaStore
    refuse: bool = False
    while_writing: Callable[[], Awaitable[None]] | None = None
    writes: int = 0

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> None:
        self.writes += 1
        if self.refuse:
            raise MediaUnavailable("the media store failed: PermissionDenied")
        hook, self.while_writing = self.while_writing, None
        if hook is not None:
            await hook()
        await self.store.put_stream(key, chunks, content_type)

    async def delete(self, key: str) -> bool:
        return await self.store.delete(key)


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
    sink: Sink
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
async def rig(db: Database, files: Files, tmp_path: Path) -> AsyncIterator[Rig]:
    settings = Settings(
        data_dir=tmp_path,
        mirror_attempts=2,
        mirror_backoff_base_seconds=0.05,
        mirror_backoff_cap_seconds=0.1,
        mirror_max_bytes=MAX_BYTES,
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
    sink = Sink(media)
    fetchers = MirrorFetchers(settings)
    assert ctx.mirrors is not None
    copier = MirrorCopier(ctx, ctx.mirrors, sink, fetchers.for_account)
    worker = MirrorWorker(ctx, ctx.mirrors, copier)
    try:
        yield Rig(ctx, ctx.mirrors, media, sink, worker, files, provider, handle)
    finally:
        await fetchers.aclose()


async def submitted(rig: Rig) -> Task:
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


def upstream_media(rig: Rig, video: str = "/v.mp4") -> TaskMedia:
    return TaskMedia(
        video=rig.link(video + "?wm=1"),
        width=640,
        height=360,
        download=rig.link(video),
        thumbnail=rig.link("/t.jpg"),
    )


async def completed_upstream(rig: Rig, task: Task, media: TaskMedia) -> Task | None:
    job = UpstreamJob("up-1", UpstreamState.COMPLETED, progress=100, media=media)
    return await apply_job(rig.ctx, task, job, utcnow(), rig.account)


async def task_now(rig: Rig, task_id: str) -> Task:
    task = await rig.ctx.tasks.get(task_id)
    assert task is not None
    return task


def kept_bytes(rig: Rig, ref: str | None) -> bytes:
    assert ref is not None and ref.startswith("media:mirrors/"), ref
    return rig.media.path_for(media_key(ref)).read_bytes()


async def due_at(rig: Rig, task_id: str) -> datetime:
    job = await rig.mirrors.get(task_id)
    assert job is not None and job.next_attempt_at is not None
    return job.next_attempt_at
