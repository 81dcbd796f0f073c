"""The engine's lifecycle: start settles what a dead process left, the loops react to their
signals, extra loops run beside them, and stop ends them all."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from lumagate.domain.accounts import AccountHandle, NewAccount
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.engine.runtime import Engine, new_replica_id
from lumagate.providers.base import Submission, UpstreamJob, UpstreamState
from lumagate.wiring.operator import account_admin
from lumagate.wiring.stores import Stores
from tests.support.stores import engine_context, stored_task


class EchoProvider:
    """Accepts every create; has found nothing when asked after a crash."""

    kind = "relay"

    async def submit(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        return UpstreamJob(f"up-{submission.intent_id}", UpstreamState.PENDING)

    async def find_submission(
        self, account: AccountHandle, submission: Submission
    ) -> UpstreamJob | None:
        return None

    async def refresh_many(
        self, account: AccountHandle, upstream_ids: Sequence[str]
    ) -> dict[str, UpstreamJob]:
        return {}  # nothing new upstream


def test_replica_ids_are_unique_per_engine() -> None:
    assert new_replica_id() != new_replica_id()


async def test_start_runs_the_loops_and_stop_ends_them(stores: Stores) -> None:
    ctx = engine_context(stores, dispatch_interval_seconds=3600.0)
    ctx.providers.register(EchoProvider())  # type: ignore[arg-type]
    account = await account_admin(stores).add(
        NewAccount(kind="relay", name="r", base_url="http://127.0.0.1:1", max_concurrency=5)
    )
    key, _ = await stores.keys.create("t", utcnow())
    orphan = await stored_task(
        stores,
        key.id,
        TaskState.SUBMITTING,
        account_id=account.id,
        lease_owner="dead",
        lease_expires_at=utcnow() - timedelta(minutes=1),
        attempts=1,
    )
    extra_ran = asyncio.Event()

    async def extra() -> None:
        extra_ran.set()
        await asyncio.Event().wait()  # runs until cancelled

    engine = Engine(ctx)
    engine.add_loop("extra", extra)
    await engine.start()
    try:
        requeued = await stores.tasks.get(orphan.id)  # settled before the loops began
        # (queued again with a retry delay: it waits for a later pass)
        assert requeued is not None and requeued.state == TaskState.QUEUED
        fresh = await stored_task(stores, key.id)
        engine.task_queued()

        deadline = asyncio.get_running_loop().time() + 30
        while True:
            submitted = await stores.tasks.get(fresh.id)
            assert submitted is not None
            if submitted.state == TaskState.SUBMITTED:
                break
            assert asyncio.get_running_loop().time() < deadline, "the woken dispatcher did not run"
            await asyncio.sleep(0.02)
        assert extra_ran.is_set()
    finally:
        await asyncio.wait_for(engine.stop(grace_seconds=1.0), timeout=30)
    assert engine._loops == []


async def test_accounts_changed_wakes_the_dispatcher_and_the_upkeep(stores: Stores) -> None:
    ctx = engine_context(stores)
    Engine(ctx).accounts_changed()
    assert await ctx.signals.dispatch.wait(0.0) and await ctx.signals.upkeep.wait(0.0)
