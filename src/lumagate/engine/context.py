"""What every engine loop shares: stores, providers, signals, the replica's identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.mirroring import MirrorJob
from lumagate.domain.retry import RetryPolicy
from lumagate.domain.task import Task
from lumagate.engine.events import TaskEvents
from lumagate.engine.signals import EngineSignals
from lumagate.providers.base import Provider, Submission
from lumagate.providers.registry import ProviderRegistry
from lumagate.settings import Settings
from lumagate.store.accounts import AccountStore
from lumagate.store.mirrors import MirrorStore
from lumagate.store.pool import PoolStore
from lumagate.store.tasks import TaskStore
from lumagate.store.unit_of_work import Transactions


class MirrorStarter(Protocol):
    """Starts a stored mirror job's attempt in this process, within the copy concurrency."""

    def reserve(self) -> bool:
        """Take a slot for a job about to be stored held by this replica; False: none free."""
        ...

    def start(
        self, job: MirrorJob, task: Task | None = None, account: AccountHandle | None = None
    ) -> None:
        """Run ``job`` in the reserved slot (``task``: as just held, ``account``: its account,
        when the caller has them: the attempt then reads neither before its first copy)."""
        ...

    def release(self) -> None:
        """Give a reserved slot back unused."""
        ...


@dataclass
class EngineContext:
    """The parts every engine loop is given (built by the composition root)."""

    settings: Settings
    tasks: TaskStore
    accounts: AccountStore
    pool: PoolStore
    transactions: Transactions
    providers: ProviderRegistry
    signals: EngineSignals
    events: TaskEvents
    replica_id: str
    single_node: bool
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    mirrors: MirrorStore | None = None
    """Mirror jobs (engine/mirroring.py); None: completions are recorded with upstream links."""
    mirror_starter: MirrorStarter | None = None
    """Runs a mirror job this replica just stored at once (engine/mirroring.py); None: the
    mirror loop claims it."""

    def server_id(self, account: AccountHandle) -> str:
        return f"{self.settings.server_id}/{account.kind}"

    async def account_and_provider(self, account_id: str) -> tuple[AccountHandle, Provider] | None:
        handle = await self.accounts.load_handle(account_id)
        if handle is None:
            return None
        return handle, self.providers.calling(handle.kind)

    async def submission_for(self, task: Task) -> Submission:
        source_upstream: str | None = None
        if task.request.extend_of:
            source = await self.tasks.get(task.request.extend_of)
            source_upstream = source.upstream_id if source else None
        return Submission(
            intent_id=task.id,
            request=task.request,
            extend_of_upstream_id=source_upstream,
            not_before=task.created_at,
        )

    async def publish(self, task: Task | None) -> None:
        if task is not None:
            await self.events.publish(task)


def is_pinned(task: Task) -> bool:
    """Extends run on the account that made their source."""
    return task.request.extend_of is not None


def lease_deadline(ctx: EngineContext, now: datetime) -> datetime:
    return now + timedelta(seconds=ctx.settings.lease_seconds)
