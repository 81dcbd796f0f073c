"""Keeping finished upstream videos: the loop that copies them, and the fetchers it uses.

Decision (docs/architecture.md, "Keeping videos"): a task whose upstream finished stays in
``processing`` (progress 99, no more polls) while a durable mirror job (``media_mirrors``)
copies its files; the job's end moves the task to ``completed`` with the gateway's own links,
or to ``failed`` with a reason. Clients therefore see one moment: ``completed`` and a
``download_url`` that lasts arrive together, in every dialect and callback.

``engine/mirror_hold.py`` holds a task when its upstream finishes; the job row is written
first, so a crash in between leaves a job that completes the task from whatever running state
it is in. :class:`MirrorWorker` runs ``engine/mirror_copy.MirrorCopier`` attempts: of the jobs
its loop claims when due (one replica at a time, with a renewed hold), and of the jobs this
replica has just stored already held by itself, started at once without waiting for a claim.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from urllib.parse import urlsplit

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.clock import utcnow
from lumagate.domain.mirroring import MirrorJob
from lumagate.domain.task import Task
from lumagate.engine.context import EngineContext
from lumagate.engine.mirror_copy import MirrorCopier
from lumagate.engine.periodic import PassOutcome, run_periodically
from lumagate.security.guarded_fetch import GuardedFetcher
from lumagate.security.ssrf import SsrfGuard
from lumagate.settings import Settings
from lumagate.store.mirrors import MirrorStore

log = logging.getLogger(__name__)

PERIOD_SECONDS = 5.0


class MirrorFetchers:
    """The guarded fetchers of upstream files, one per upstream host.

    Upstream links go through the SSRF guard like every URL the gateway did not make up: the
    operator's ``LUMAGATE_CALLBACK_ALLOW`` list, plus the host of the account's own base URL
    (the operator named that host when adding the account; a relay or a self-hosted sim lives
    there), and nothing else private. Bodies are bounded by ``mirror_max_bytes``. Connections
    are kept alive between copies, pooled per name and checked address (the guard still checks
    every link before it is fetched): a task's files and the next task's come from one storage
    host, and a fresh connection per file was a good part of each copy's time.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._by_host: dict[str, GuardedFetcher] = {}

    def for_account(self, account: AccountHandle | None) -> GuardedFetcher:
        host = ""
        if account is not None and account.base_url:
            host = urlsplit(account.base_url).hostname or ""
        fetcher = self._by_host.get(host)
        if fetcher is None:
            allow = [*self.settings.callback_allow, *([host] if host else [])]
            fetcher = GuardedFetcher(
                SsrfGuard(allow),
                max_bytes=self.settings.mirror_max_bytes,
                timeout=self.settings.upstream_timeout_seconds,
                keep_alive=True,
            )
            self._by_host[host] = fetcher
        return fetcher

    async def aclose(self) -> None:
        for fetcher in self._by_host.values():
            await fetcher.aclose()
        self._by_host.clear()


class MirrorWorker:
    """Runs one copy attempt per mirror job, ``mirror_concurrency`` at once: jobs the loop
    claims when due, and jobs this replica just stored held by itself
    (:class:`~lumagate.engine.context.MirrorStarter`: started at once, no claim to wait for)."""

    def __init__(self, ctx: EngineContext, mirrors: MirrorStore, copier: MirrorCopier) -> None:
        self.ctx = ctx
        self.mirrors = mirrors
        self.copier = copier
        self.hold = timedelta(seconds=ctx.settings.lease_seconds)
        self.limit = ctx.settings.mirror_concurrency
        self.busy = 0  # slots taken: attempts running or reserved
        self._group: asyncio.TaskGroup | None = None
        self._starved = False  # the loop found no free slot: wake it when one frees

    async def run(self) -> None:
        if self.ctx.single_node:
            # This process holds the data dir's lock: every hold left is a dead process's.
            await self.mirrors.release_all_held(utcnow())
        async with asyncio.TaskGroup() as group:  # the jobs started at once; cancelled with it
            self._group = group
            try:
                await run_periodically(
                    "mirror", self._pass, self.ctx.signals.mirror, PERIOD_SECONDS
                )
            finally:
                self._group = None

    @property
    def accepting(self) -> bool:
        """Whether jobs can be started here at once (the worker's loop is running)."""
        return self._group is not None

    def reserve(self) -> bool:
        if self._group is None or self.busy >= self.limit:
            return False
        self.busy += 1
        return True

    def start(
        self, job: MirrorJob, task: Task | None = None, account: AccountHandle | None = None
    ) -> None:
        if self._group is None:  # the loop stopped meanwhile: the stored job waits its hold
            self.release()
            return
        self._group.create_task(self._run_started(job, task, account))

    def release(self) -> None:
        self.busy -= 1
        if self._starved:
            self._starved = False
            self.ctx.signals.mirror.set()

    async def _run_started(
        self, job: MirrorJob, task: Task | None, account: AccountHandle | None
    ) -> None:
        try:
            await self._attempt(job, task, account)
        finally:
            self.release()

    async def _pass(self) -> PassOutcome:
        if self.busy >= self.limit:
            self._starved = True
            return PassOutcome()  # the slot that frees first wakes the loop
        jobs = await self.run_once()
        return PassOutcome(again=jobs > 0, due=await self.mirrors.next_due())

    async def run_once(self) -> int:
        """Claim a batch of due jobs (as many as slots are free) and attempt each; how many
        were claimed."""
        free = self.limit - self.busy
        if free <= 0:
            self._starved = True
            return 0
        jobs = await self.mirrors.claim_due(self.ctx.replica_id, utcnow(), self.hold, free)
        self.busy += len(jobs)
        try:
            await asyncio.gather(*(self._attempt(job) for job in jobs))
        finally:
            self.busy -= len(jobs)
        return len(jobs)

    async def _attempt(
        self, job: MirrorJob, task: Task | None = None, account: AccountHandle | None = None
    ) -> None:
        renewal = asyncio.create_task(self._renew(job.task_id))
        try:
            await self.copier.attempt(job, task, account)
        except Exception as exc:  # counted as a failed attempt, so never retried for ever
            log.exception("task %s: copying its video failed", job.task_id)
            with contextlib.suppress(Exception):  # else the hold lapses: tried again
                await self.copier.count_failure(job, f"an internal error ({type(exc).__name__})")
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal

    async def _renew(self, task_id: str) -> None:
        while True:
            await asyncio.sleep(self.hold.total_seconds() / 3)
            until = utcnow() + self.hold
            if not await self.mirrors.renew(task_id, self.ctx.replica_id, until):
                return
