"""The sandbox provider: an offline "upstream" that renders real MP4s locally with PyAV.

It behaves like a remote upstream so the engine treats it no differently: a submission is
recorded as a render job (``jobs.py``; the server keeps them in the shared database) before
anything is rendered (the generation id is derived from the task id, so submitting twice finds
the same job), renders run in worker threads, and a job nobody renders is claimed by the first
replica that polls it, under a lease renewed while rendering: a render whose replica died is
taken over once its lease ran out and rendered once more (docs/replicas.md). Each finished
render appends a line to this process's ``renders.log`` and counts in the job (the tests'
proof that nothing was rendered twice).

Videos go to ``videos/<random>/`` (chosen when the job is recorded), so a ``/files`` link
cannot be built from a task id. Jobs of an older ``<id>/job.json`` are read from it once.
With media in the data dir, renders are written straight into their folder; with object
storage they are rendered into this process's job directory and uploaded before completing
(``staging.py``: a render's inputs and outputs).
Output is labelled as sandbox output (account kind ``sandbox`` in ``server_id``), never Luma's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.clock import utcnow
from lumagate.domain.render_jobs import RenderJob, RenderState
from lumagate.domain.request import GenerationRequest, media_ref
from lumagate.domain.task import TaskMedia
from lumagate.domain.video import FRAMES_PER_SECOND, frame_size
from lumagate.media.file_modes import private_dir
from lumagate.media.store import MediaStore
from lumagate.providers.base import (
    Rejected,
    Submission,
    UpstreamJob,
    UpstreamState,
)
from lumagate.providers.sandbox.jobs import MemoryRenderJobs, RenderJobs, RenderLease
from lumagate.providers.sandbox.staging import (
    ImageUnavailable,
    render_and_store,
    render_spec,
    video_path,
)

log = logging.getLogger(__name__)

RenderListener = Callable[[str, str], Awaitable[None]]  # (account id, upstream id)
MODERATION_FAILURE = "Prompt moderation failed"


@dataclass
class _Running:
    account_id: str
    progress: float = 0.0
    thread: asyncio.Future[None] | None = None  # the render's thread (no cancel stops it)


class SandboxProvider:
    """The offline upstream: a job's life (record, claim under a lease, render, outcome)."""

    kind = "sandbox"

    def __init__(
        self,
        jobs_dir: Path,
        media: MediaStore,
        *,
        concurrency: int = 2,
        fps: int = FRAMES_PER_SECOND,
        fail_marker: str = "[[fail]]",
        jobs: RenderJobs | None = None,
        lease: RenderLease | None = None,
    ) -> None:
        self.jobs_dir = jobs_dir
        self.media = media
        self.fail_marker = fail_marker
        self.fps = fps
        self.jobs: RenderJobs = MemoryRenderJobs() if jobs is None else jobs
        self.lease = RenderLease() if lease is None else lease
        self._concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._running: dict[str, _Running] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self.listener: RenderListener | None = None
        private_dir(jobs_dir)

    # -- provider interface -------------------------------------------------------------
    async def submit(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        return await self._accept(account, submission, source=None)

    async def extend(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        source = submission.extend_of_upstream_id
        source_job = None if source is None else await self._job(source)
        if source_job is None or not self._finished(source_job):
            raise Rejected("The source video of this extend is not available")
        return await self._accept(account, submission, source=source)

    async def upload_image(self, account: AccountHandle, data: bytes, content_type: str) -> str:
        suffix = "." + content_type.split("/")[-1].replace("jpeg", "jpg")
        return media_ref(await self.media.asave_bytes(data, "uploads", suffix))

    async def refresh_many(
        self, account: AccountHandle, upstream_ids: Sequence[str]
    ) -> dict[str, UpstreamJob]:
        found: dict[str, UpstreamJob] = {}
        for upstream_id in upstream_ids:
            job = await self._status(account, upstream_id)
            if job is not None:
                found[upstream_id] = job
        return found

    async def find_submission(
        self, account: AccountHandle, submission: Submission
    ) -> UpstreamJob | None:
        return await self._status(account, self.generation_id(submission.intent_id))

    async def download_url(self, account: AccountHandle, upstream_id: str) -> str | None:
        job = await self._job(upstream_id)
        if job is None or not self._finished(job):
            return None
        return media_ref(f"{job.media_folder}/video.mp4")

    async def close(self) -> None:
        """Stop rendering. A render already in its thread runs to its end (no cancel stops a
        thread, and the process waits for it anyway): wait for it and record it, so no replica
        renders it again. Other jobs' leases are given up, so another replica takes them now."""
        for worker in list(self._workers):
            worker.cancel()
        for worker in list(self._workers):
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        for upstream_id, running in list(self._running.items()):
            with contextlib.suppress(Exception):  # a failed render or a gone database: the
                if running.thread is None:  # lease expires and the next poll claims the job
                    await self.jobs.release(upstream_id, self.lease.owner)
                else:
                    await running.thread
                    await self.jobs.finish(upstream_id, None)
        self._running.clear()

    # -- bookkeeping --------------------------------------------------------------------
    @staticmethod
    def generation_id(intent_id: str) -> str:
        return f"sbx-{intent_id}"

    def render_count(self) -> dict[str, int]:
        """How many times each generation was rendered to the end (from ``renders.log``)."""
        counts: dict[str, int] = {}
        log_path = self.jobs_dir / "renders.log"
        if log_path.exists():
            for line in log_path.read_text().splitlines():
                if line.strip():
                    counts[line.strip()] = counts.get(line.strip(), 0) + 1
        return counts

    def _job_dir(self, upstream_id: str) -> Path:
        if "/" in upstream_id or upstream_id.startswith("."):
            raise Rejected("unknown sandbox generation")
        return self.jobs_dir / upstream_id

    async def _job(self, upstream_id: str) -> RenderJob | None:
        """The job (from the job store, or once from an older ``<id>/job.json`` here)."""
        self._job_dir(upstream_id)  # rejects a malformed id
        job = await self.jobs.get(upstream_id)
        return job if job is not None else await self._import_job_file(upstream_id)

    async def _import_job_file(self, upstream_id: str) -> RenderJob | None:
        job_dir = self._job_dir(upstream_id)
        try:
            record = json.loads((job_dir / "job.json").read_text())
        except (OSError, ValueError):
            return None
        folder = record.get("media_folder") if isinstance(record, dict) else None
        if not isinstance(folder, str):
            folder = f"videos/{upstream_id}"
        job = await self.jobs.record(
            upstream_id, record.get("request") or {}, record.get("source"), folder
        )
        failed = job_dir / "failed.txt"
        if failed.exists():
            await self.jobs.finish(upstream_id, failed.read_text().strip() or "Job failed")
        elif self._rendered_here(job):
            await self.jobs.finish(upstream_id, None)
        return await self.jobs.get(upstream_id)

    def _rendered_here(self, job: RenderJob) -> bool:
        """Its video is in the data dir's media (a render its process could not record)."""
        return self.media.local is not None and video_path(self.media, job).exists()

    def _finished(self, job: RenderJob) -> bool:
        """Whether the job's video is in the media store."""
        return job.state == RenderState.COMPLETED or self._rendered_here(job)

    async def _accept(
        self, account: AccountHandle, submission: Submission, source: str | None
    ) -> UpstreamJob:
        upstream_id = self.generation_id(submission.intent_id)
        if await self._job(upstream_id) is None:
            await self.jobs.record(
                upstream_id,
                submission.request.model_dump(mode="json"),
                source,
                f"videos/{secrets.token_urlsafe(18)}",
            )
        status = await self._status(account, upstream_id)
        assert status is not None
        return status

    async def _status(self, account: AccountHandle, upstream_id: str) -> UpstreamJob | None:
        job = await self._job(upstream_id)
        if job is None:
            return None
        if job.state == RenderState.FAILED:
            reason = job.failure_reason or "Job failed"
            return UpstreamJob(upstream_id, UpstreamState.FAILED, failure_reason=reason)
        if job.state == RenderState.COMPLETED:
            return UpstreamJob(
                upstream_id, UpstreamState.COMPLETED, progress=100, media=self._media(job)
            )
        running = self._running.get(upstream_id)
        if running is not None:
            progress = int(running.progress * 100)
            return UpstreamJob(upstream_id, UpstreamState.PROCESSING, progress=progress)
        if self._rendered_here(job):  # rendered by a process stopped before it said so
            await self.jobs.finish(upstream_id, None)
            return await self._status(account, upstream_id)
        if len(self._running) < self._concurrency and await self._claim(upstream_id):
            self._start(account, job)
            return UpstreamJob(upstream_id, UpstreamState.PENDING, progress=0)
        state = UpstreamState.PROCESSING if job.state == RenderState.RENDERING else None
        return UpstreamJob(upstream_id, state or UpstreamState.PENDING, progress=0)

    async def _claim(self, upstream_id: str) -> bool:
        now = utcnow()
        until = now + timedelta(seconds=self.lease.seconds)
        single_node = self.lease.single_node
        return await self.jobs.claim(
            upstream_id, self.lease.owner, until, now, single_node=single_node
        )

    def _media(self, job: RenderJob) -> TaskMedia:
        request = GenerationRequest.model_validate(job.request)
        size = frame_size(request.aspect_ratio, request.resolution)
        video = media_ref(f"{job.media_folder}/video.mp4")
        return TaskMedia(
            video=video,
            width=size.width,
            height=size.height,
            download=video,
            video_raw=video,
            thumbnail=media_ref(f"{job.media_folder}/thumbnail.jpg"),
            last_frame=media_ref(f"{job.media_folder}/last_frame.jpg"),
        )

    def _start(self, account: AccountHandle, job: RenderJob) -> None:
        self._running[job.id] = _Running(account.id)
        worker = asyncio.create_task(self._render(account.id, job))
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    async def _render(self, account_id: str, job: RenderJob) -> None:
        """Render ``job`` while renewing its lease; record the outcome in the job store."""
        renewer = asyncio.create_task(self._renew(job.id))
        failure: str | None = None
        try:
            async with self._slots:
                failure = await self._render_job(job)
        except ImageUnavailable as exc:
            failure = str(exc)
        except Exception as exc:  # a broken job must fail visibly, not hang
            log.exception("sandbox render %s failed", job.id)
            failure = f"Sandbox render failed: {exc}"
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        try:
            await self.jobs.finish(job.id, failure)
        except Exception:  # its lease runs out and the next poll claims it again
            log.exception("recording the end of sandbox render %s failed", job.id)
            return
        finally:
            self._running.pop(job.id, None)
        if self.listener is not None:
            await self.listener(account_id, job.id)

    async def _renew(self, job_id: str) -> None:
        """Keep the lease while the render runs, so no other replica takes it meanwhile."""
        period = max(0.2, self.lease.seconds / 3)
        while True:
            await asyncio.sleep(period)
            until = utcnow() + timedelta(seconds=self.lease.seconds)
            try:
                if not await self.jobs.renew(job_id, self.lease.owner, until):
                    log.warning("sandbox render %s lost its lease", job_id)
                    return
            except Exception:  # a database blip: try again next period, the lease still runs
                log.warning("renewing the lease of sandbox render %s failed", job_id)

    async def _render_job(self, job: RenderJob) -> str | None:
        """Render one job; the failure reason, or None when its video is in the media store."""
        request = GenerationRequest.model_validate(job.request)
        if self.fail_marker and self.fail_marker in request.prompt:
            return MODERATION_FAILURE
        source = None if job.source is None else await self._job(job.source)
        scratch = self._job_dir(job.id)
        spec = await render_spec(self.media, request, source, scratch, self.fps)
        state = self._running[job.id]
        loop = asyncio.get_running_loop()

        def progress(fraction: float) -> None:
            state.progress = fraction

        def work() -> None:
            render_and_store(self.media, spec, job, scratch, progress, loop)
            with (self.jobs_dir / "renders.log").open("a") as counter:
                counter.write(job.id + "\n")

        state.thread = loop.run_in_executor(None, work)
        await asyncio.shield(state.thread)
        return None
