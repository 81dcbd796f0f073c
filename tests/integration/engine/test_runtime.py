"""The engine end to end inside one process: a real Gateway, the sandbox provider, real renders.

Every test runs on SQLite (single node: a foreign lease is a dead process) and on PostgreSQL
(replicas: a lease must expire before anyone adopts it). Tasks are created through the task
service and the tests wait on the store with deadlines; small 540p 1:1 clips keep it fast.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from lumagate.domain.accounts import Account
from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.request import media_key
from lumagate.domain.scheduling import SANDBOX_KIND
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.domain.tenant import ApiKey
from lumagate.engine.signals import Wakeup
from lumagate.gateway import Gateway
from lumagate.providers.base import Submission
from lumagate.providers.sandbox.provider import MODERATION_FAILURE, SandboxProvider
from lumagate.service.tasks import CreateCommand
from lumagate.settings import Settings
from tests.support.databases import replica_secrets

T = TypeVar("T")
RENDER_TIMEOUT = 45.0  # generous: a 540p clip renders in ~2 s on one core


@pytest.fixture(autouse=True)
def _no_lumagate_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings come from the test alone, not from the developer's environment."""
    for name in list(os.environ):
        if name.startswith("LUMAGATE_"):
            monkeypatch.delenv(name)
    yield


def settings_for(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "refresh_interval_seconds": 0.3,
        "dispatch_interval_seconds": 0.5,
        "lease_seconds": 2,
        "sandbox_concurrency": 2,
    }
    if not database_url.startswith("sqlite"):
        values.update(replica_secrets())
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_gateway(settings: Settings) -> AsyncIterator[Gateway]:
    gateway = Gateway(settings)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop()


async def wait_until(
    probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = RENDER_TIMEOUT
) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


async def tenant_key(gateway: Gateway) -> ApiKey:
    key, _ = await gateway.stores.keys.create("tenant", utcnow())
    return key


def small(prompt: str, channel: Channel = Channel.DEFAULT) -> CreateCommand:
    return CreateCommand(
        channel=channel,
        dialect="reseller",
        prompt=prompt,
        aspect_ratio="1:1",
        resolution="540p",
    )


async def sandbox_account(gateway: Gateway) -> Account:
    accounts = [a for a in await gateway.stores.accounts.all() if a.kind == SANDBOX_KIND]
    assert len(accounts) == 1
    return accounts[0]


async def active_by_account(gateway: Gateway) -> dict[str, int]:
    """Tasks in SUBMITTING/SUBMITTED/PROCESSING per account, straight from the store."""
    return await gateway.stores.pool.running_by_account()


async def all_terminal(gateway: Gateway, tenant: ApiKey, ids: list[str]) -> list[Task] | None:
    found = await gateway.stores.tasks.get_many(ids, tenant.id)
    assert len(found) == len(ids)
    return found if all(t.is_terminal for t in found) else None


def render_lines(settings: Settings) -> list[str]:
    log = settings.data_dir / "sandbox" / "renders.log"
    return log.read_text().split() if log.exists() else []


def assert_media_on_disk(gateway: Gateway, task: Task, width: int, height: int) -> None:
    assert task.media is not None
    assert (task.media.width, task.media.height) == (width, height)
    for ref in (task.media.video, task.media.best_download, task.media.thumbnail):
        assert ref is not None
        path = gateway.services.media.path_for(media_key(ref))
        assert path.is_file() and path.stat().st_size > 1000, ref
    video = gateway.services.media.path_for(media_key(task.media.video))
    assert video.read_bytes()[4:8] == b"ftyp"  # an MP4


# -- tests --------------------------------------------------------------------------------


async def test_tasks_complete_within_the_sandbox_concurrency(
    tmp_path: Path, database_url: str
) -> None:
    settings = settings_for(tmp_path, database_url, sandbox_concurrency=2)
    async with running_gateway(settings) as gateway:
        tenant = await tenant_key(gateway)
        account = await sandbox_account(gateway)
        assert account.max_concurrency == 2
        created = [
            await gateway.services.tasks.create(tenant, small(f"clip {i}")) for i in range(4)
        ]
        assert all(t.state == TaskState.QUEUED for t in created)
        ids = [t.id for t in created]

        peak: dict[str, int] = {}

        async def done_and_track_peak() -> list[Task] | None:
            for account_id, count in (await active_by_account(gateway)).items():
                peak[account_id] = max(peak.get(account_id, 0), count)
            return await all_terminal(gateway, tenant, ids)

        finished = await wait_until(done_and_track_peak, "four tasks to complete")

        assert peak == {account.id: 2}  # used both slots, never a third
        for task in finished:
            assert task.state == TaskState.COMPLETED, task.failure_reason
            assert task.state.public == "completed"
            assert task.account_id == account.id
            assert task.progress == 100
            assert task.failure_reason is None
            assert task.server_id == f"{settings.server_id}/sandbox"
            assert task.upstream_id == SandboxProvider.generation_id(task.id)
            assert task.submitted_at is not None and task.finished_at is not None
            assert task.created_at <= task.submitted_at <= task.finished_at
            assert_media_on_disk(gateway, task, 540, 540)
        assert sorted(render_lines(settings)) == sorted(
            SandboxProvider.generation_id(i) for i in ids
        )
        assert await active_by_account(gateway) == {}


async def test_priority_order_of_dispatch(tmp_path: Path, database_url: str) -> None:
    settings = settings_for(tmp_path, database_url, sandbox_concurrency=1)
    async with running_gateway(settings) as gateway:
        tenant = await tenant_key(gateway)
        account = await sandbox_account(gateway)
        # A real render holds the only slot while the others queue up behind it.
        blocker = await gateway.services.tasks.create(tenant, small("blocker"))

        async def blocker_running() -> bool:
            task = await gateway.stores.tasks.get(blocker.id)
            assert task is not None and not task.is_terminal
            return task.state in (TaskState.SUBMITTED, TaskState.PROCESSING)

        await wait_until(blocker_running, "the blocker to hold the slot")
        # The queued ones fail fast in the sandbox ([[fail]]), so only their order costs time.
        plan = [
            ("default-1", Channel.DEFAULT),
            ("default-2", Channel.DEFAULT),
            ("vip-1", Channel.VIP),
            ("pro-1", Channel.PRO),
            ("pro-2", Channel.PRO),
        ]
        names: dict[str, str] = {}
        for name, channel in plan:
            task = await gateway.services.tasks.create(tenant, small(f"[[fail]] {name}", channel))
            names[task.id] = name
        queued = await gateway.stores.tasks.get_many(list(names), tenant.id)
        assert {t.state for t in queued} == {TaskState.QUEUED}  # the blocker still runs
        assert await active_by_account(gateway) == {account.id: 1}

        ids = [blocker.id, *names]
        finished = await wait_until(
            lambda: all_terminal(gateway, tenant, ids), "all tasks to finish"
        )
        names[blocker.id] = "blocker"
        by_start = sorted(finished, key=lambda t: t.submitted_at or datetime.max)
        assert [names[t.id] for t in by_start] == [
            "blocker",
            "pro-1",
            "pro-2",
            "vip-1",
            "default-1",
            "default-2",
        ]
        # Concurrency 1: each one started only after the one before it had finished.
        for before, after in itertools.pairwise(by_start):
            assert before.finished_at is not None and after.submitted_at is not None
            assert after.submitted_at >= before.finished_at
        assert by_start[0].state == TaskState.COMPLETED
        assert {t.failure_reason for t in by_start[1:]} == {MODERATION_FAILURE}


async def test_moderation_failure(tmp_path: Path, database_url: str) -> None:
    settings = settings_for(tmp_path, database_url)
    async with running_gateway(settings) as gateway:
        tenant = await tenant_key(gateway)
        task = await gateway.services.tasks.create(tenant, small("a cat [[fail]] dancing"))
        [failed] = await wait_until(
            lambda: all_terminal(gateway, tenant, [task.id]), "the task to fail"
        )
        assert failed.state == TaskState.FAILED
        assert failed.state.public == "failed"
        assert failed.failure_reason == "Prompt moderation failed"
        assert failed.media is None
        assert failed.finished_at is not None
        assert render_lines(settings) == []  # nothing was rendered
        assert await active_by_account(gateway) == {}  # the slot is free again


async def test_extend_completes_on_the_source_account(tmp_path: Path, database_url: str) -> None:
    settings = settings_for(tmp_path, database_url)
    async with running_gateway(settings) as gateway:
        tenant = await tenant_key(gateway)
        home = await sandbox_account(gateway)
        source = await gateway.services.tasks.create(tenant, small("a red boat"))
        [source] = await wait_until(
            lambda: all_terminal(gateway, tenant, [source.id]), "the source to complete"
        )
        assert source.state == TaskState.COMPLETED, source.failure_reason
        assert source.account_id == home.id

        # Another account is free now while the source's account cools down: an unpinned task
        # goes to the other one, the extend waits for its own.
        now = utcnow()
        other = await gateway.stores.accounts.create(
            name="sandbox-b", kind=SANDBOX_KIND, now=now, max_concurrency=2
        )
        cooldown_end = now + timedelta(seconds=2)
        await gateway.stores.accounts.cool_down(home.id, cooldown_end, "test cooldown", now)
        extend = await gateway.services.tasks.extend(
            tenant, source.id, CreateCommand(Channel.DEFAULT, "reseller", prompt="sails on")
        )
        assert extend.account_id == home.id  # pinned from the start
        assert extend.request.extend_of == source.id
        assert (extend.request.aspect_ratio, extend.request.resolution) == ("1:1", "540p")
        elsewhere = await gateway.services.tasks.create(tenant, small("[[fail]] unpinned"))

        finished = await wait_until(
            lambda: all_terminal(gateway, tenant, [extend.id, elsewhere.id]),
            "the extend to complete",
        )
        extended, unpinned = finished
        assert unpinned.account_id == other.id
        assert extended.state == TaskState.COMPLETED, extended.failure_reason
        assert extended.account_id == home.id
        assert extended.submitted_at is not None and extended.submitted_at >= cooldown_end
        assert extended.upstream_id == SandboxProvider.generation_id(extend.id)
        assert_media_on_disk(gateway, extended, 540, 540)
        assert extended.media is not None and source.media is not None
        assert extended.media.video != source.media.video

        # With the source's account gone for good, a further extend cannot run anywhere else.
        await gateway.stores.accounts.disable(home.id, "retired", utcnow())
        orphan = await gateway.services.tasks.extend(
            tenant, source.id, CreateCommand(Channel.DEFAULT, "reseller", prompt="again")
        )
        [orphan] = await wait_until(
            lambda: all_terminal(gateway, tenant, [orphan.id]), "the orphan extend to fail"
        )
        assert orphan.state == TaskState.FAILED
        assert orphan.failure_reason == (
            "The upstream account that made the source video is no longer available"
        )
        assert orphan.account_id == home.id


async def test_crash_recovery_settles_a_dead_replicas_submissions(
    tmp_path: Path, database_url: str
) -> None:
    settings = settings_for(tmp_path, database_url)
    single_node = database_url.startswith("sqlite")

    # The "dead process": it stored two submission intents and then died. It had already made
    # the upstream call for one of them (the sandbox accepted it), not for the other.
    dead = Gateway(settings)
    await dead.prepare()
    try:
        account = await dead.stores.accounts.ensure_sandbox(utcnow(), settings.sandbox_concurrency)
        tenant = await tenant_key(dead)
        accepted = await dead.services.tasks.create(tenant, small("accepted upstream"))
        never_sent = await dead.services.tasks.create(tenant, small("never sent"))
        now = utcnow()
        lease_until = now + timedelta(seconds=1)
        async with dead.stores.transactions.begin() as work:
            for task in (accepted, never_sent):
                assert await work.tasks.claim(task, account.id, "dead-replica", lease_until, now)
        handle = await dead.stores.accounts.load_handle(account.id)
        assert handle is not None
        await dead.engine.sandbox.submit(
            handle, Submission(intent_id=accepted.id, request=accepted.request)
        )
    finally:
        await dead.engine.providers.close()  # dies before its render ever starts
        await dead.close()
    assert render_lines(settings) == []

    async with running_gateway(settings) as gateway:
        assert gateway.engine.engine.ctx.single_node == single_node
        ids = [accepted.id, never_sent.id]
        finished = await wait_until(
            lambda: all_terminal(gateway, tenant, ids), "the recovered tasks to complete"
        )
        recovered, resent = finished
        for task in finished:
            assert task.state == TaskState.COMPLETED, task.failure_reason
            assert task.account_id == account.id
            assert_media_on_disk(gateway, task, 540, 540)
            assert task.submitted_at is not None
            if not single_node:  # replicas: nobody adopts a lease before it expires
                assert task.submitted_at >= lease_until
        assert recovered.attempts == 1  # found upstream, not submitted again
        assert resent.attempts == 2  # not found upstream, so queued and submitted once more
        lines = render_lines(settings)
        for task in finished:
            assert lines.count(SandboxProvider.generation_id(task.id)) == 1
        assert len(lines) == 2


async def test_no_eligible_account_fails_the_task(tmp_path: Path, database_url: str) -> None:
    settings = settings_for(tmp_path, database_url)
    async with running_gateway(settings) as gateway:
        tenant = await tenant_key(gateway)
        account = await sandbox_account(gateway)
        assert await gateway.stores.accounts.disable(account.id, "maintenance", utcnow())
        plain = await gateway.services.tasks.create(tenant, small("nowhere to go"))
        vip = await gateway.services.tasks.create(tenant, small("nor this", Channel.VIP))
        finished = await wait_until(
            lambda: all_terminal(gateway, tenant, [plain.id, vip.id]), "the tasks to fail"
        )
        reasons = [t.failure_reason for t in finished]
        assert reasons == [
            "No upstream account available for channel default",
            "No upstream account available for channel vip",
        ]
        for task in finished:
            assert task.state == TaskState.FAILED
            assert task.media is None and task.upstream_id is None
            assert task.finished_at is not None
        assert render_lines(settings) == []


async def test_wakeup_does_not_swallow_a_cancel_that_comes_with_a_set() -> None:
    wakeup = Wakeup()
    rounds = 0

    async def engine_like_loop() -> None:
        nonlocal rounds
        while True:
            await wakeup.wait(30)
            rounds += 1

    loop_task = asyncio.create_task(engine_like_loop())
    await wait_until(lambda: _suspended_in_wakeup(loop_task), "the loop to wait", timeout=5)
    wakeup.set()
    loop_task.cancel()  # in the same loop iteration as the set()
    done, _ = await asyncio.wait({loop_task}, timeout=5)
    if not done:
        loop_task.cancel()
    assert loop_task in done, f"the loop survived cancel() and went round {rounds} more time(s)"
    assert loop_task.cancelled()


async def test_engine_stops_when_stopped_as_its_loops_are_woken(
    tmp_path: Path, database_url: str
) -> None:
    gateway = Gateway(settings_for(tmp_path, database_url))
    await gateway.start()
    loops = [t for t in asyncio.all_tasks() if t.get_name().startswith("lumagate-")]
    core = {"lumagate-dispatcher", "lumagate-refresher", "lumagate-reconciler"}
    assert core <= {t.get_name() for t in loops}
    try:

        async def all_idle() -> bool:
            return all([await _suspended_in_wakeup(t) for t in loops if t.get_name() in core])

        await wait_until(all_idle, "the engine loops to go idle", timeout=10)
        gateway.engine.engine.task_queued()  # e.g. a request arriving during shutdown
        gateway.engine.engine.ctx.signals.refresh.set()
        gateway.engine.engine.ctx.signals.reconcile.set()
        stop = asyncio.ensure_future(gateway.engine.engine.stop())
        done, _ = await asyncio.wait({stop}, timeout=10)
        assert stop in done, "Engine.stop() hung: a loop swallowed its cancellation"
        assert all(t.done() for t in loops)
    finally:
        for task in loops:
            task.cancel()
        await gateway.stop()


async def _suspended_in_wakeup(task: asyncio.Task[None]) -> bool:
    """Whether ``task`` is parked in :meth:`Wakeup.wait` (walks the chain of awaited coroutines)."""
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None)
        if frame is not None and frame.f_code is Wakeup.wait.__code__:
            return True
        awaited = getattr(awaited, "cr_await", None)
    return False
