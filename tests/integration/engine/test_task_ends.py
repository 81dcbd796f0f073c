"""The engine's side of cancel and deadlines, in one process on a real database: a task
cancelled while its create is in flight keeps the upstream id the create returns and is then
cancelled upstream; a deadline fails a submitted task and cancels its generation; an upstream
that cannot cancel is left alone. The provider is a small in-process upstream whose create
waits until the test releases it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.domain.tenant import ApiKey
from lumagate.gateway import Gateway
from lumagate.providers.base import Submission, UpstreamJob, UpstreamState
from lumagate.service.tasks import CreateCommand
from lumagate.settings import Settings
from lumagate.store.schema import tasks
from tests.support.databases import replica_secrets
from tests.support.waiting import async_wait_until


@pytest.fixture(autouse=True)
def _no_lumagate_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("LUMAGATE_"):
            monkeypatch.delenv(name)
    yield


class HeldUpstream:
    """Accepts creates only when ``release`` is set; records every cancel."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.release = asyncio.Event()
        self.submitting = asyncio.Event()
        self.cancelled: list[str] = []
        self._made = 0

    async def submit(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        self.submitting.set()
        await self.release.wait()
        self._made += 1
        return UpstreamJob(f"up-{self._made}", UpstreamState.PROCESSING, progress=10)

    async def extend(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        return await self.submit(account, submission)

    async def upload_image(self, account: AccountHandle, data: bytes, content_type: str) -> str:
        raise NotImplementedError

    async def refresh_many(
        self, account: AccountHandle, upstream_ids: Sequence[str]
    ) -> dict[str, UpstreamJob]:
        return {i: UpstreamJob(i, UpstreamState.PROCESSING, progress=20) for i in upstream_ids}

    async def find_submission(
        self, account: AccountHandle, submission: Submission
    ) -> UpstreamJob | None:
        return None

    async def download_url(self, account: AccountHandle, upstream_id: str) -> str | None:
        return None

    async def close(self) -> None:
        pass


class CancellableUpstream(HeldUpstream):
    async def cancel(self, account: AccountHandle, upstream_id: str) -> None:
        self.cancelled.append(upstream_id)


@asynccontextmanager
async def gateway_with(
    tmp_path: Path, database_url: str, upstream: HeldUpstream, **settings: Any
) -> AsyncIterator[tuple[Gateway, ApiKey]]:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "sandbox_enabled": False,
        "refresh_interval_seconds": 0.2,
        "dispatch_interval_seconds": 0.2,
        "deadline_check_seconds": 0.1,
        "task_deadline_minutes": 0,
        **({} if database_url.startswith("sqlite") else replica_secrets()),
        **settings,
    }
    gateway = Gateway(Settings(**values))
    gateway.engine.providers.register(upstream)
    await gateway.prepare()
    await gateway.stores.accounts.create(name="held", kind=upstream.kind, now=utcnow())
    await gateway.start()
    key, _ = await gateway.stores.keys.create("tenant", utcnow())
    try:
        yield gateway, key
    finally:
        upstream.release.set()
        await gateway.stop()


def command(prompt: str) -> CreateCommand:
    return CreateCommand(channel=Channel.DEFAULT, dialect="reseller", prompt=prompt)


async def eventually(probe: Callable[[], Awaitable[bool]], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while not await probe():
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within 30 s")
        await asyncio.sleep(0.02)


async def stored(gateway: Gateway, task_id: str) -> Task:
    task = await gateway.stores.tasks.get(task_id)
    assert task is not None
    return task


async def test_a_task_cancelled_while_its_create_is_in_flight_is_cancelled_upstream(
    tmp_path: Path, database_url: str
) -> None:
    upstream = CancellableUpstream("held-cancellable")
    async with gateway_with(tmp_path, database_url, upstream) as (gateway, key):
        task = await gateway.services.tasks.create(key, command("in flight"))
        await asyncio.wait_for(upstream.submitting.wait(), 30)
        cancelled = await gateway.services.tasks.cancel(key, task.id)
        assert (cancelled.state, cancelled.upstream_id) == (TaskState.CANCELLED, None)
        upstream.release.set()  # the upstream accepts the create now
        await async_wait_until(lambda: upstream.cancelled, "the upstream cancel")
        assert upstream.cancelled == ["up-1"]
        after = await stored(gateway, task.id)
        assert (after.state, after.upstream_id, after.progress) == (TaskState.CANCELLED, "up-1", 0)


async def test_a_deadline_fails_a_running_task_and_cancels_its_generation(
    tmp_path: Path, database_url: str
) -> None:
    upstream = CancellableUpstream("held-deadline")
    upstream.release.set()
    async with gateway_with(tmp_path, database_url, upstream, task_deadline_minutes=0.02) as (
        gateway,
        key,
    ):
        task = await gateway.services.tasks.create(key, command("runs for ever"))
        assert task.deadline_at is not None
        await async_wait_until(lambda: upstream.cancelled, "the upstream cancel", timeout=30)

        failed = await stored(gateway, task.id)
        assert failed.state == TaskState.FAILED
        assert failed.failure_reason == "timed out after 0.02 minutes"
        assert failed.upstream_id == "up-1" and upstream.cancelled == ["up-1"]


async def test_an_upstream_that_cannot_cancel_is_left_alone(
    tmp_path: Path, database_url: str
) -> None:
    upstream = HeldUpstream("held-plain")
    upstream.release.set()
    async with gateway_with(tmp_path, database_url, upstream) as (gateway, key):
        task = await gateway.services.tasks.create(key, command("cannot cancel"))

        async def running() -> bool:
            return (await stored(gateway, task.id)).state == TaskState.PROCESSING

        await eventually(running, "the task running upstream")
        await gateway.services.tasks.cancel(key, task.id)

        async def upstream_cancel_settled() -> bool:
            async with gateway.stores.db.read() as conn:
                query = select(tasks.c.next_poll_at).where(tasks.c.id == task.id)
                return (await conn.execute(query)).scalar_one() is None

        await eventually(upstream_cancel_settled, "the upstream cancel given up")
        after = await stored(gateway, task.id)
        assert (after.state, after.media, after.upstream_id) == (TaskState.CANCELLED, None, "up-1")
