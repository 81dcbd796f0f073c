"""The sandbox provider: an offline "upstream" that renders real MP4s locally with PyAV.

It behaves like a remote upstream so the engine treats it no differently: a submission is
recorded in the sandbox's own job directory before anything is rendered (the generation id is
derived from the task id, so submitting twice finds the same job), renders run in worker
threads, and a render found unfinished after a restart is started again. Each finished render
appends a line to ``renders.log``, which is how tests prove no task was rendered twice.

Its videos go to ``videos/<random>/`` (the folder is chosen when the job is recorded and kept
in ``job.json``), so a ``/files`` link cannot be built from a task id: media links are
capabilities. Jobs recorded before that rule keep their ``videos/<generation id>/`` folder.

Output is labelled as sandbox output (account kind ``sandbox`` in ``server_id``) and never
presented as Luma's.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.request import GenerationRequest, media_ref
from lumagate.domain.task import TaskMedia
from lumagate.domain.video import FRAMES_PER_SECOND, frame_count, frame_size
from lumagate.media.file_modes import private_dir, tighten_existing
from lumagate.media.store import MediaFetchError, MediaNotFound, MediaStore
from lumagate.providers.base import (
    Rejected,
    Submission,
    UpstreamJob,
    UpstreamState,
)

if TYPE_CHECKING:  # the renderer (PyAV, numpy, Pillow: ~40 MiB) loads on the first render
    from lumagate.providers.sandbox.render import RenderSpec

log = logging.getLogger(__name__)

RenderListener = Callable[[str, str], Awaitable[None]]  # (account id, upstream id)
MODERATION_FAILURE = "Prompt moderation failed"


class _ImageUnavailable(Exception):
    """A keyframe could not be read; the message is the task's failure reason as it stands."""


@dataclass
class _Running:
    account_id: str
    progress: float = 0.0


class SandboxProvider:
    kind = "sandbox"

    def __init__(
        self,
        jobs_dir: Path,
        media: MediaStore,
        *,
        concurrency: int = 2,
        fail_marker: str = "[[fail]]",
    ) -> None:
        self.jobs_dir = jobs_dir
        self.media = media
        self.fail_marker = fail_marker
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
        if source is None or not self._video_path(source).exists():
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
            job = self._status(account, upstream_id)
            if job is not None:
                found[upstream_id] = job
        return found

    async def find_submission(
        self, account: AccountHandle, submission: Submission
    ) -> UpstreamJob | None:
        return self._status(account, self.generation_id(submission.intent_id))

    async def download_url(self, account: AccountHandle, upstream_id: str) -> str | None:
        video = self._video_path(upstream_id)
        return media_ref(self.media.key_for(video)) if video.exists() else None

    async def close(self) -> None:
        for worker in list(self._workers):
            worker.cancel()
        for worker in list(self._workers):
            with contextlib.suppress(asyncio.CancelledError):
                await worker

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

    def _output_dir(self, upstream_id: str) -> Path:
        return self.media.dir_for(self._media_folder(upstream_id))

    def _media_folder(self, upstream_id: str) -> str:
        """The job's random media folder; ``videos/<generation id>`` for older jobs."""
        try:
            record = json.loads((self._job_dir(upstream_id) / "job.json").read_text())
        except (OSError, ValueError):
            record = {}
        folder = record.get("media_folder") if isinstance(record, dict) else None
        return folder if isinstance(folder, str) else f"videos/{upstream_id}"

    def _video_path(self, upstream_id: str) -> Path:
        return self._output_dir(upstream_id) / "video.mp4"

    async def _accept(
        self, account: AccountHandle, submission: Submission, source: str | None
    ) -> UpstreamJob:
        upstream_id = self.generation_id(submission.intent_id)
        job_dir = self._job_dir(upstream_id)
        job_file = job_dir / "job.json"
        if not job_file.exists():
            job_dir.mkdir(parents=True, exist_ok=True)
            record = {
                "request": submission.request.model_dump(mode="json"),
                "source": source,
                "media_folder": f"videos/{secrets.token_urlsafe(18)}",
            }
            tmp = job_dir / "job.json.tmp"
            tmp.write_text(json.dumps(record))
            os.replace(tmp, job_file)
        status = self._status(account, upstream_id)
        assert status is not None
        return status

    def _status(self, account: AccountHandle, upstream_id: str) -> UpstreamJob | None:
        job_dir = self._job_dir(upstream_id)
        if not (job_dir / "job.json").exists():
            return None
        failed = job_dir / "failed.txt"
        if failed.exists():
            return UpstreamJob(
                upstream_id,
                UpstreamState.FAILED,
                failure_reason=failed.read_text().strip() or "Job failed",
            )
        video = self._video_path(upstream_id)
        if video.exists():
            return UpstreamJob(
                upstream_id,
                UpstreamState.COMPLETED,
                progress=100,
                media=self._media(upstream_id, job_dir),
            )
        running = self._running.get(upstream_id)
        if running is None:
            self._start(account, upstream_id)
            return UpstreamJob(upstream_id, UpstreamState.PENDING, progress=0)
        return UpstreamJob(
            upstream_id, UpstreamState.PROCESSING, progress=int(running.progress * 100)
        )

    def _media(self, upstream_id: str, job_dir: Path) -> TaskMedia:
        request = GenerationRequest.model_validate(
            json.loads((job_dir / "job.json").read_text())["request"]
        )
        size = frame_size(request.aspect_ratio, request.resolution)
        out = self._output_dir(upstream_id)
        video = media_ref(self.media.key_for(out / "video.mp4"))
        return TaskMedia(
            video=video,
            width=size.width,
            height=size.height,
            download=video,
            video_raw=video,
            thumbnail=media_ref(self.media.key_for(out / "thumbnail.jpg")),
            last_frame=media_ref(self.media.key_for(out / "last_frame.jpg")),
        )

    def _start(self, account: AccountHandle, upstream_id: str) -> None:
        self._running[upstream_id] = _Running(account.id)
        worker = asyncio.create_task(self._render(account.id, upstream_id))
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    async def _render(self, account_id: str, upstream_id: str) -> None:
        finished = True
        try:
            async with self._slots:
                finished = await self._render_job(upstream_id)
        except _ImageUnavailable as exc:
            self._mark_failed(upstream_id, str(exc))
        except Exception as exc:  # a broken job must fail visibly, not hang
            log.exception("sandbox render %s failed", upstream_id)
            self._mark_failed(upstream_id, f"Sandbox render failed: {exc}")
        finally:
            self._running.pop(upstream_id, None)
        if finished and self.listener is not None:
            await self.listener(account_id, upstream_id)

    async def _render_job(self, upstream_id: str) -> bool:
        """Render one job; False when another process holds its lock (it renders it)."""
        job_dir = self._job_dir(upstream_id)
        record: dict[str, Any] = json.loads((job_dir / "job.json").read_text())
        request = GenerationRequest.model_validate(record["request"])
        if self.fail_marker and self.fail_marker in request.prompt:
            self._mark_failed(upstream_id, MODERATION_FAILURE)
            return True
        spec = await self._spec(request, record.get("source"))
        state = self._running[upstream_id]

        def progress(fraction: float) -> None:
            state.progress = fraction

        def work() -> bool:
            with _exclusive(job_dir / "render.lock") as acquired:
                if not acquired:
                    return False  # another process is rendering it
                if not self._video_path(upstream_id).exists():
                    from lumagate.providers.sandbox.render import render_video

                    out = render_video(spec, self._output_dir(upstream_id), progress)
                    tighten_existing([out.video, out.thumbnail, out.last_frame])
                    with (self.jobs_dir / "renders.log").open("a") as counter:
                        counter.write(upstream_id + "\n")
                return True

        return await asyncio.to_thread(work)

    async def _spec(self, request: GenerationRequest, source: str | None) -> RenderSpec:
        from lumagate.providers.sandbox.render import RenderSpec

        size = frame_size(request.aspect_ratio, request.resolution)
        start = None if source else await self._image(request.start_image, "image_url")
        end = await self._image(request.end_image, "image_end_url")
        return RenderSpec(
            width=size.width,
            height=size.height,
            frames=frame_count(request.duration),
            fps=FRAMES_PER_SECOND,
            prompt=request.prompt,
            start_image=start,
            end_image=end,
            loop=request.loop,
            continue_from_video=self._video_path(source) if source else None,
        )

    async def _image(self, ref: str | None, field: str) -> bytes | None:
        """The image's bytes; a failure says only what the tenant may know (never an address)."""
        if ref is None:
            return None
        try:
            return (await self.media.read(ref))[0]
        except MediaFetchError as exc:
            raise _ImageUnavailable(exc.describe(field)) from None
        except MediaNotFound:
            raise _ImageUnavailable(f"the image at {field} is no longer stored") from None

    def _mark_failed(self, upstream_id: str, reason: str) -> None:
        (self._job_dir(upstream_id) / "failed.txt").write_text(reason)


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[bool]:
    """A non-blocking inter-process lock; released by the kernel if the process dies."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
