"""Copying one finished task's files from the upstream into the media store.

One :meth:`MirrorCopier.attempt` is one try of a mirror job (``domain/mirroring.py``): each file
not kept yet is streamed from its upstream link through the SSRF-guarded fetcher into the
media store (never whole in memory) and recorded as kept at once, so a crash never makes a
file be copied twice. The video is opened first and the other files are copied beside it once
its upstream answered (``engine/mirror_round.py``). A link that answers 401/403/404/410
(expired, as presigned links do) is replaced once per attempt by fresh ones from the provider
(``refresh_many`` for every file, ``download_url`` for the watermark-free video); a transient
failure waits out a backoff; the task fails, with a reason and so a refund, only when the
upstream can no longer give the video or the video is over ``mirror_max_bytes`` (no retry
makes it smaller). Failures on this side (the media store refusing a write) count attempts like
transient ones, so no job retries for ever. A task that ended otherwise meanwhile (cancelled,
past its deadline) is never completed by its job: the job closes and removes the files it had
kept, as a failed task's job does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Protocol

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.clock import utcnow
from lumagate.domain.fetching import FetchFailed, StreamFetcher, TooLarge, UrlRefused
from lumagate.domain.mirroring import (
    DROPPED_REASON,
    SKIPPED,
    AssetCopy,
    MirrorJob,
    MirrorState,
    Verdict,
    exhausted_reason,
    gone_reason,
    judge,
    kept_keys,
    mirrored_media,
    pending_copies,
    refused_reason,
    store_reason,
    too_large_reason,
)
from lumagate.domain.retry import RetryPolicy
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.engine.context import EngineContext
from lumagate.engine.mirror_round import Failure, Opened, copy_round
from lumagate.engine.outcomes import fail
from lumagate.media.keys import MediaError
from lumagate.providers.base import Provider, ProviderError, Rejected
from lumagate.store.mirrors import MirrorStore

log = logging.getLogger(__name__)


class MediaSink(Protocol):
    """Where kept files go: the media store (local or S3), written only by streaming."""

    async def put_stream(
        self, key: str, chunks: AsyncIterator[bytes], content_type: str
    ) -> None: ...

    async def delete(self, key: str) -> bool: ...


class _UpstreamGone(Exception):
    """The provider says the generation itself is gone: no fresh link can be had."""


class MirrorCopier:
    """Runs attempts of mirror jobs held by this replica (``owner``)."""

    def __init__(
        self,
        ctx: EngineContext,
        mirrors: MirrorStore,
        media: MediaSink,
        fetcher_for: Callable[[AccountHandle | None], StreamFetcher],
    ) -> None:
        self.ctx = ctx
        self.mirrors = mirrors
        self.media = media
        self.fetcher_for = fetcher_for
        settings = ctx.settings
        self.retry = RetryPolicy(
            max_attempts=settings.mirror_attempts,
            base_seconds=settings.mirror_backoff_base_seconds,
            cap_seconds=settings.mirror_backoff_cap_seconds,
        )
        self.timeout = settings.mirror_timeout_seconds

    @property
    def owner(self) -> str:
        return self.ctx.replica_id

    async def attempt(
        self, job: MirrorJob, held: Task | None = None, account: AccountHandle | None = None
    ) -> None:
        """One try of ``job``: the task ends completed or failed, or the job waits a backoff.

        ``held``: the task as the caller just held it, with ``account`` its account (a job
        started at once where the completion was learnt): neither is read again, since the
        completion's write is conditional on the task's state and sees any move since."""
        task: Task | None
        pair: tuple[AccountHandle, Provider] | None
        if held is not None and account is not None and account.id == job.account_id:
            task, pair = held, (account, self.ctx.calling(account))
        else:
            task, pair = await asyncio.gather(self.ctx.tasks.get(job.task_id), self._pair(job))
        if task is None or task.state.is_terminal:
            # Decided already (a restart after the task moved, a cancel, or the task went away).
            await self._settle(job, task)
            return
        fetcher = self.fetcher_for(pair[0] if pair else None)
        current: MirrorJob | None = job
        refreshed = False
        copy_one, record = partial(self._copy, fetcher), partial(self._record, job.task_id)
        while current is not None and (plan := pending_copies(current)):
            copied, failures = await copy_round(plan, current.copied, copy_one, record)
            current = replace(current, copied=copied)
            if failures:
                current, refreshed = await self._after(current, failures, pair, refreshed)
        if current is not None:
            await self._complete(current, task)

    async def _pair(self, job: MirrorJob) -> tuple[AccountHandle, Provider] | None:
        return await self.ctx.account_and_provider(job.account_id) if job.account_id else None

    async def _after(
        self,
        job: MirrorJob,
        failures: list[Failure],
        pair: tuple[AccountHandle, Provider] | None,
        refreshed: bool,
    ) -> tuple[MirrorJob | None, bool]:
        """What a round's failures mean, the video's first: the task fails (its video cannot be
        had), files no retry can get are skipped, a transient failure ends the attempt with a
        backoff, an expired link is refreshed once per attempt; then the job to go on with."""
        retry: str | None = None
        stale: list[AssetCopy] = []  # links that expired: fresh ones are asked for
        for failure in failures:
            exc, copy = failure.error, failure.copy
            if isinstance(exc, UrlRefused):
                reason = refused_reason(exc.reason)
            elif isinstance(exc, TooLarge):
                reason = too_large_reason(exc.reason, self.ctx.settings.mirror_max_bytes)
            elif isinstance(exc, FetchFailed):
                verdict = judge(exc.status, refreshed=refreshed)
                if verdict == Verdict.REFRESH:
                    stale.append(copy)
                    continue
                if verdict == Verdict.RETRY:
                    retry = retry or exc.reason
                    continue
                reason = gone_reason(exc.reason)
            else:  # this side failed (the media store): counted, never for ever
                retry = retry or store_reason(_describe(exc))
                continue
            updated = await self._unfetchable(job, copy, reason)
            if updated is None:
                return None, refreshed
            job = updated
        if retry is not None:
            return await self._retry(job, retry), refreshed
        if stale:
            return await self._refreshed(job, pair, stale), True
        return job, refreshed

    async def _leave_to_others(self, job: MirrorJob, kind: str) -> None:
        """Fresh links need the account's provider, which this replica lacks (a kind a newer
        version added, during a rolling upgrade): the job is released at its current backoff
        with no attempt spent, for a replica that knows the kind to claim, as a task only such
        a replica can serve waits queued (docs/upstreams.md). The files kept so far stay kept."""
        reason = f"a fresh link needs a replica that can call {kind!r} accounts"
        log.info("task %s: %s; left to one", job.task_id, reason)
        await self._release(job, reason, attempts=job.attempts)

    async def count_failure(self, job: MirrorJob, reason: str) -> None:
        """An attempt that broke unexpectedly still counts, so a job never retries for ever."""
        await self._retry(job, reason)

    async def _unfetchable(self, job: MirrorJob, copy: AssetCopy, reason: str) -> MirrorJob | None:
        """A file no retry can get: the task fails for its video; other files are skipped."""
        if copy.required:
            await self._fail(job, reason)
            return None
        return await self._skip(job, copy, reason)

    async def _refreshed(
        self,
        job: MirrorJob,
        pair: tuple[AccountHandle, Provider] | None,
        stale: list[AssetCopy],
    ) -> MirrorJob | None:
        """The job with fresh links for ``stale`` files; when none can be had, the task fails
        for its video, but files beside a video kept already are skipped."""
        if pair is not None and not self.ctx.calls(pair[0].kind):
            await self._leave_to_others(job, pair[0].kind)
            return None
        try:
            return await self._refresh(job, pair)
        except _UpstreamGone as gone:
            for copy in stale:
                updated = await self._unfetchable(job, copy, gone_reason(str(gone)))
                if updated is None:
                    return None
                job = updated
            return job
        except ProviderError as err:
            return await self._retry(job, f"a fresh link was refused: {err.message}")

    async def _copy(
        self, fetcher: StreamFetcher, copy: AssetCopy, opened: Opened | None = None
    ) -> None:
        """Stream one file into the store; ``opened`` once its upstream answered. An upstream
        failure while reading is re-raised as itself, whatever the backend made of it (obstore
        wraps its body's errors)."""
        failures: list[FetchFailed] = []

        async def chunks(body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
            try:
                async for chunk in body:
                    yield chunk
            except FetchFailed as exc:
                failures.append(exc)
                raise

        try:
            async with asyncio.timeout(self.timeout), fetcher.stream(copy.url) as body:
                if opened is not None:
                    opened()
                try:
                    await self.media.put_stream(copy.key, chunks(body.chunks), copy.content_type)
                except Exception:
                    if failures:
                        raise failures[0] from None
                    raise
        except TimeoutError:
            raise FetchFailed(f"the copy took longer than {self.timeout:g} s") from None

    async def _record(self, task_id: str, copied: Mapping[str, str]) -> None:
        await self.mirrors.record_copied(task_id, self.owner, copied, utcnow())

    async def _kept(self, job: MirrorJob, asset: str, key: str) -> MirrorJob:
        copied = {**job.copied, asset: key}
        await self._record(job.task_id, copied)
        return replace(job, copied=copied)

    async def _skip(self, job: MirrorJob, copy: AssetCopy, reason: str) -> MirrorJob:
        log.warning("task %s: the %s could not be kept: %s", job.task_id, copy.asset, reason)
        return await self._kept(job, copy.asset.value, SKIPPED)

    async def _refresh(
        self, job: MirrorJob, pair: tuple[AccountHandle, Provider] | None
    ) -> MirrorJob:
        """Fresh upstream links for every file, the video's through ``download_url``."""
        if pair is None or job.upstream_id is None:
            raise _UpstreamGone("its upstream account was removed")
        account, provider = pair
        try:
            found = await provider.refresh_many(account, [job.upstream_id])
            video = await provider.download_url(account, job.upstream_id)
        except Rejected as exc:  # 404 and kin: the generation itself is gone
            raise _UpstreamGone(exc.message) from exc
        fresh = found.get(job.upstream_id)
        source = fresh.media if fresh is not None and fresh.media is not None else job.source
        if video:
            source = replace(source, download=video)
        log.info("task %s: upstream links expired; fresh ones obtained", job.task_id)
        await self.mirrors.record_source(job.task_id, self.owner, source, utcnow())
        return replace(job, source=source)

    async def _retry(self, job: MirrorJob, reason: str) -> MirrorJob | None:
        """Count a failed attempt: the job waits a backoff, or the task fails after the last.
        Always None, the job to go on with: this attempt is over."""
        attempts = job.attempts + 1
        if self.retry.exhausted(attempts):
            await self._fail(job, exhausted_reason(attempts, reason))
            return None
        log.info("task %s: copy attempt %d failed (%s); again later", job.task_id, attempts, reason)
        await self._release(job, reason, attempts=attempts)
        return None

    async def _release(self, job: MirrorJob, reason: str, *, attempts: int) -> None:
        """The job let go with ``attempts`` counted, due again after the backoff before its
        next attempt, so any replica may claim it then."""
        now = utcnow()
        due = now + timedelta(seconds=self.retry.delay(job.attempts + 1))
        await self.mirrors.retry_later(
            job.task_id, self.owner, attempts=attempts, due=due, error=reason, now=now
        )

    async def _fail(self, job: MirrorJob, reason: str) -> None:
        task = await self.ctx.tasks.get(job.task_id)
        now = utcnow()
        if task is not None and not task.state.is_terminal:
            await fail(self.ctx, task, reason, now)  # the billing listener refunds it
            self.ctx.signals.dispatch.set()
        if task is None or task.state != TaskState.COMPLETED:
            await self._drop(job)  # a failed task never shows the files kept beside its video
        await self.mirrors.finish(job.task_id, MirrorState.FAILED, now, reason)

    async def _complete(self, job: MirrorJob, task: Task) -> None:
        """Complete ``task`` (as read when the attempt began: the conditional write sees any move
        since) with the kept files and close the job, in one transaction."""
        now = utcnow()
        changed = await self.mirrors.complete(task, mirrored_media(job), job.copied, now)
        if changed is None:  # it moved meanwhile (e.g. cancelled): settle by its new state
            await self._record(job.task_id, job.copied)  # its last file was kept all the same
            moved = await self.ctx.tasks.get(job.task_id)
            if moved is None or moved.state.is_terminal:
                await self._settle(job, moved)
                return
            moved_on = "the task moved while its video was kept"
            await self.mirrors.retry_later(
                job.task_id, self.owner, attempts=job.attempts, due=now, error=moved_on, now=now
            )
            return
        log.info("task %s: %s -> completed (video kept)", task.id, task.state)
        self.ctx.signals.dispatch.set()  # a slot is free (held ones were counted free already)
        await self.ctx.publish(changed)

    async def _settle(self, job: MirrorJob, task: Task | None) -> None:
        """Close the job of a task that ended without it. A task that did not complete (a
        cancel, a deadline) never shows these files, so its copies are removed."""
        if task is not None and task.state == TaskState.COMPLETED:
            await self.mirrors.finish(job.task_id, MirrorState.DONE, utcnow())
            return
        await self._drop(job)
        log.info("task %s: ended before its video was kept; copies dropped", job.task_id)
        await self.mirrors.finish(job.task_id, MirrorState.FAILED, utcnow(), DROPPED_REASON)

    async def _drop(self, job: MirrorJob) -> None:
        for key in kept_keys(job):
            try:
                await self.media.delete(key)
            except (MediaError, OSError) as exc:  # left to retention; the job still closes
                log.warning("task %s: a copy was not removed: %s", job.task_id, _describe(exc))


def _describe(exc: BaseException) -> str:
    return exc.message if isinstance(exc, MediaError) else type(exc).__name__
