"""What every engine loop shares: stores, providers, signals, the replica's identity."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.mirroring import MirrorJob
from lumagate.domain.retry import RetryPolicy
from lumagate.domain.task import Task
from lumagate.engine.events import TaskEvents
from lumagate.engine.signals import EngineSignals
from lumagate.providers.absent import AbsentProvider
from lumagate.providers.base import Provider, Submission
from lumagate.providers.registry import ProviderRegistry
from lumagate.settings import Settings
from lumagate.store.accounts import AccountStore
from lumagate.store.mirrors import MirrorStore
from lumagate.store.pool import PoolStore
from lumagate.store.tasks import TaskStore
from lumagate.store.unit_of_work import Transactions

log = logging.getLogger(__name__)


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
    _kinds_not_here: set[str] = field(default_factory=set, repr=False)

    def calls(self, kind: str) -> bool:
        """Whether this replica has a provider for ``kind``. An account of another kind (one a
        newer version added, during a rolling upgrade) is left to the replicas that know it:
        no new task, no poll, no reconcile, no upkeep here (docs/upstreams.md). The first
        miss per kind is logged."""
        if self.providers.knows(kind):
            return True
        if kind not in self._kinds_not_here:
            self._kinds_not_here.add(kind)
            log.warning(
                "no provider for account kind %r on this replica: its accounts are left to "
                "replicas that know it",
                kind,
            )
        return False

    def provider(self, kind: str) -> Provider | None:
        """The kind's provider itself (for capability checks), None when this replica has none."""
        return self.providers.get(kind) if self.calls(kind) else None

    def server_id(self, account: AccountHandle) -> str:
        return f"{self.settings.server_id}/{account.kind}"

    async def account_and_provider(self, account_id: str) -> tuple[AccountHandle, Provider] | None:
        """The account and what to call it through; None when the account is gone. For a kind
        this replica has no provider for, an :class:`AbsentProvider` whose every call is a
        transient failure: loops ask :meth:`calls` first, any other caller retries later."""
        handle = await self.accounts.load_handle(account_id)
        if handle is None:
            return None
        return handle, self.calling(handle)

    def calling(self, account: AccountHandle) -> Provider:
        """What to call ``account`` through: its kind's provider, or an :class:`AbsentProvider`
        when this replica has none."""
        if not self.calls(account.kind):
            return AbsentProvider(account.kind)
        return self.providers.calling(account.kind)

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
