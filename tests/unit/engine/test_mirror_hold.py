"""needs_mirror and hold_for_mirror over real stores (a fresh SQLite file) and a recording
mirror starter: which completions are copied first (mirroring on, remote links, the account's
kind not passed through); a held task stays in processing at progress 99 without its upstream
links, with its job stored; the copy starts at once when a slot is free, else the mirror loop
is woken; a repeated completion gives its reserved slot back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.clock import utcnow
from lumagate.domain.mirroring import MirrorJob
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task, TaskMedia
from lumagate.engine.context import EngineContext
from lumagate.engine.mirror_hold import hold_for_mirror, needs_mirror
from lumagate.providers.base import UpstreamJob, UpstreamState
from lumagate.wiring.stores import Stores
from tests.support.stores import engine_context, reread, stored_account, stored_task

REMOTE = TaskMedia(video="http://up.test/v.mp4", width=640, height=360)
KEPT = TaskMedia(video="media:renders/v.mp4", width=640, height=360)


@dataclass
class Starter:
    """The mirror worker as the hold sees it: ``free`` slots; what was started and released."""

    free: int = 1
    started: list[tuple[MirrorJob, Task | None, AccountHandle | None]] = field(default_factory=list)
    released: int = 0

    def reserve(self) -> bool:
        if self.free <= 0:
            return False
        self.free -= 1
        return True

    def start(
        self, job: MirrorJob, task: Task | None = None, account: AccountHandle | None = None
    ) -> None:
        self.started.append((job, task, account))

    def release(self) -> None:
        self.free += 1
        self.released += 1


@pytest.fixture
def ctx(stores: Stores) -> EngineContext:
    context = engine_context(stores, mirror_pass_through_kinds=["passthrough"])
    context.mirrors = stores.mirrors
    return context


async def test_a_completion_with_remote_links_is_copied_first(
    ctx: EngineContext, stores: Stores
) -> None:
    account = await stored_account(stores)
    task = await stored_task(stores, "t", TaskState.PROCESSING, account_id=account.id)
    assert await needs_mirror(ctx, task, REMOTE, account)
    assert await needs_mirror(ctx, task, REMOTE, None)  # the account read from the task


async def test_what_is_not_copied(ctx: EngineContext, stores: Stores) -> None:
    account = await stored_account(stores)
    task = await stored_task(stores, "t", TaskState.PROCESSING, account_id=account.id)
    assert not await needs_mirror(ctx, task, None, account)  # no media
    assert not await needs_mirror(ctx, task, KEPT, account)  # kept already (the sandbox's)
    assert not await needs_mirror(ctx, task, REMOTE, None, kind="sandbox")
    assert not await needs_mirror(ctx, task, REMOTE, await stored_account(stores, "passthrough"))
    ctx.settings = ctx.settings.model_copy(update={"mirror_media": False})
    assert not await needs_mirror(ctx, task, REMOTE, account)
    ctx.settings = ctx.settings.model_copy(update={"mirror_media": True})
    ctx.mirrors = None  # a replica wired without mirror jobs
    assert not await needs_mirror(ctx, task, REMOTE, account)


def _completed(media: TaskMedia = REMOTE) -> UpstreamJob:
    return UpstreamJob("up-1", UpstreamState.COMPLETED, progress=100, media=media)


async def test_a_held_task_stays_processing_and_its_copy_starts_at_once(
    ctx: EngineContext, stores: Stores
) -> None:
    account = await stored_account(stores)
    ctx.mirror_starter = starter = Starter()
    task = await stored_task(stores, "t", TaskState.SUBMITTED, account_id=account.id)
    now = utcnow()
    values = {"progress": 100, "media": REMOTE, "upstream_id": "up-1"}
    held = await hold_for_mirror(ctx, task, _completed(), now, values, account)
    assert held is not None and held.state == TaskState.PROCESSING and held.progress == 99
    stored = await reread(stores, task)
    assert stored.media is None  # the upstream's links are never shown
    assert (stored.state, stored.progress) == (TaskState.PROCESSING, 99)
    [(job, started_task, started_account)] = starter.started
    assert (started_task, started_account) == (held, account)
    assert job.task_id == task.id and job.source == REMOTE and job.upstream_id == "up-1"
    kept = await stores.mirrors.get(task.id)
    assert kept is not None and kept.next_attempt_at is not None
    assert kept.next_attempt_at >= now + timedelta(seconds=ctx.settings.lease_seconds)  # held
    assert await ctx.signals.dispatch.wait(0.0)  # its upstream slot is free
    assert not await ctx.signals.mirror.wait(0.0)  # started here: no claim to wake


async def test_with_no_free_slot_the_job_is_due_now_for_the_mirror_loop(
    ctx: EngineContext, stores: Stores
) -> None:
    ctx.mirror_starter = starter = Starter(free=0)
    task = await stored_task(stores, "t", TaskState.PROCESSING)
    now = utcnow()
    # a processing task only takes its hold: no state moved, nothing to publish
    assert await hold_for_mirror(ctx, task, _completed(), now, {"progress": 100}) is None
    assert (await reread(stores, task)).progress == 99
    assert starter.started == []
    kept = await stores.mirrors.get(task.id)
    assert kept is not None and kept.next_attempt_at == now
    assert await ctx.signals.mirror.wait(0.0)


async def test_a_repeated_completion_keeps_its_job_and_gives_the_slot_back(
    ctx: EngineContext, stores: Stores
) -> None:
    ctx.mirror_starter = starter = Starter(free=2)
    task = await stored_task(stores, "t", TaskState.PROCESSING)
    await hold_for_mirror(ctx, task, _completed(), utcnow(), {})
    first = await stores.mirrors.get(task.id)
    again = TaskMedia(video="http://up.test/other.mp4", width=1, height=1)
    await hold_for_mirror(ctx, await reread(stores, task), _completed(again), utcnow(), {})
    assert len(starter.started) == 1 and starter.released == 1 and starter.free == 1
    assert await stores.mirrors.get(task.id) == first  # kept as it was
