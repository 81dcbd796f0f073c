"""MirrorFetchers and MirrorWorker over real stores (a fresh SQLite file) and a recording copier:
one guarded fetcher per upstream host, allowed that host beside the operator's list; the worker
claims due jobs within its slots, counts an attempt that broke as a failure, takes slots for
jobs started at once only while its loop runs, and wakes its loop when a slot frees after it
found none."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.mirroring import MirrorJob
from lumagate.domain.task import Task, TaskMedia
from lumagate.engine.context import EngineContext
from lumagate.engine.mirror_copy import MirrorCopier
from lumagate.engine.mirroring import MirrorFetchers, MirrorWorker
from lumagate.security.guarded_fetch import GuardedFetcher
from lumagate.wiring.stores import Stores
from tests.support.stores import engine_context, held_for_copy

MEDIA = TaskMedia(video="http://up.test/v.mp4", width=640, height=360)


class Copier(MirrorCopier):
    """Records attempts (``broken``: each raises) and the failures counted."""

    def __init__(self, ctx: EngineContext, stores: Stores, *, broken: bool = False) -> None:
        super().__init__(ctx, stores.mirrors, _NoMedia(), _no_fetcher)
        self.broken = broken
        self.attempted: list[str] = []
        self.counted: list[tuple[str, str]] = []

    async def attempt(
        self, job: MirrorJob, held: Task | None = None, account: AccountHandle | None = None
    ) -> None:
        self.attempted.append(job.task_id)
        if self.broken:
            raise RuntimeError("a bug")

    async def count_failure(self, job: MirrorJob, reason: str) -> None:
        self.counted.append((job.task_id, reason))


class _NoMedia:
    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> None:
        raise AssertionError("no copy is made here")

    async def delete(self, key: str) -> bool:
        raise AssertionError("no copy is removed here")


def _no_fetcher(account: AccountHandle | None) -> GuardedFetcher:
    raise AssertionError("no file is fetched here")


@pytest.fixture
def ctx(stores: Stores) -> EngineContext:
    return engine_context(stores, mirror_concurrency=2, callback_allow=["hooks.example"])


async def test_one_fetcher_per_upstream_host_allowed_that_host(ctx: EngineContext) -> None:
    fetchers = MirrorFetchers(ctx.settings)
    relay = AccountHandle("a1", "r", "relay", base_url="http://relay.internal:8080/v1")
    same_host = AccountHandle("a2", "r2", "relay", base_url="http://relay.internal/other")
    try:
        plain, of_relay = fetchers.for_account(None), fetchers.for_account(relay)
        assert fetchers.for_account(None) is plain and fetchers.for_account(same_host) is of_relay
        assert of_relay is not plain
        assert plain.guard.allow.hosts == {"hooks.example"}
        assert of_relay.guard.allow.hosts == {"hooks.example", "relay.internal"}
        assert of_relay.max_bytes == ctx.settings.mirror_max_bytes
    finally:
        await fetchers.aclose()
    assert fetchers.for_account(None) is not plain  # closed ones are not handed out again
    await fetchers.aclose()


async def test_the_worker_claims_due_jobs_within_its_slots(
    ctx: EngineContext, stores: Stores
) -> None:
    ids = [(await held_for_copy(stores, MEDIA))[0].id for _ in range(3)]
    copier = Copier(ctx, stores)
    worker = MirrorWorker(ctx, stores.mirrors, copier)
    assert await worker.run_once() == 2  # mirror_concurrency
    assert await worker.run_once() == 1  # the third; the two are held by this replica now
    assert await worker.run_once() == 0
    assert sorted(copier.attempted) == sorted(ids)
    assert worker.busy == 0 and copier.counted == []


async def test_an_attempt_that_broke_is_counted_as_a_failure(
    ctx: EngineContext, stores: Stores
) -> None:
    task, _ = await held_for_copy(stores, MEDIA)
    copier = Copier(ctx, stores, broken=True)
    assert await MirrorWorker(ctx, stores.mirrors, copier).run_once() == 1
    assert copier.counted == [(task.id, "an internal error (RuntimeError)")]


async def test_slots_for_jobs_started_at_once_only_while_the_loop_runs(
    ctx: EngineContext, stores: Stores
) -> None:
    worker = MirrorWorker(ctx, stores.mirrors, Copier(ctx, stores))
    assert not worker.accepting and not worker.reserve()
    assert worker.busy == 0


async def test_a_slot_that_frees_wakes_the_loop_that_found_none(
    ctx: EngineContext, stores: Stores
) -> None:
    await held_for_copy(stores, MEDIA)
    worker = MirrorWorker(ctx, stores.mirrors, Copier(ctx, stores))
    worker.busy = worker.limit  # every slot taken by jobs started at once
    assert await worker.run_once() == 0
    assert not await ctx.signals.mirror.wait(0.0)
    worker.release()
    assert await ctx.signals.mirror.wait(0.0)
    assert await worker.run_once() == 1
