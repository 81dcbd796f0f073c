"""Where the sandbox keeps its render jobs: the interface, and an in-process implementation.

The server passes the database's job store (``store/render_jobs.py``), shared by every replica,
so a render whose replica died is taken over by another (a lease, like task claims). A
sandbox built on its own (tests, a script) keeps its jobs in memory.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from lumagate.domain.render_jobs import RenderJob, RenderState


@dataclass(frozen=True)
class RenderLease:
    """Who this process is among the replicas, and how long its claim on a render lasts."""

    owner: str = "sandbox"
    seconds: float = 30.0
    single_node: bool = True  # one process per data dir: a foreign lease is a dead process's


class RenderJobs(Protocol):
    """The jobs of the sandbox; every change is conditional, so replicas racing agree."""

    async def record(
        self, job_id: str, request: dict[str, Any], source: str | None, media_folder: str
    ) -> RenderJob:
        """Store the job unless it exists; return the stored one (first write wins)."""
        ...

    async def get(self, job_id: str) -> RenderJob | None: ...

    async def claim(
        self, job_id: str, owner: str, until: datetime, now: datetime, *, single_node: bool
    ) -> bool:
        """Take an unfinished job nobody holds (lease gone or expired; single-node: any lease
        not ``owner``'s, its process is dead). True if ``owner`` holds it now."""
        ...

    async def renew(self, job_id: str, owner: str, until: datetime) -> bool:
        """Push ``owner``'s lease to ``until``; False if it lost the lease."""
        ...

    async def finish(self, job_id: str, failure_reason: str | None) -> None:
        """Mark the job completed (or failed with the reason) and count the render."""
        ...

    async def release(self, job_id: str, owner: str) -> None:
        """Give the lease up at once (a clean stop), so another replica needs not wait."""
        ...


class MemoryRenderJobs:
    """:class:`RenderJobs` in one process's memory: for a sandbox used without a database."""

    def __init__(self) -> None:
        self._jobs: dict[str, RenderJob] = {}

    async def record(
        self, job_id: str, request: dict[str, Any], source: str | None, media_folder: str
    ) -> RenderJob:
        return self._jobs.setdefault(
            job_id, RenderJob(job_id, request, source, media_folder, RenderState.WAITING)
        )

    async def get(self, job_id: str) -> RenderJob | None:
        return self._jobs.get(job_id)

    async def claim(
        self, job_id: str, owner: str, until: datetime, now: datetime, *, single_node: bool
    ) -> bool:
        job = self._jobs.get(job_id)
        if job is None or job.is_finished:
            return False
        free = job.owner is None or (job.lease_expires_at or now) < now
        if not (free or job.owner == owner or single_node):
            return False
        self._jobs[job_id] = dataclasses.replace(
            job, state=RenderState.RENDERING, owner=owner, lease_expires_at=until
        )
        return True

    async def renew(self, job_id: str, owner: str, until: datetime) -> bool:
        job = self._jobs.get(job_id)
        if job is None or job.owner != owner or job.is_finished:
            return False
        self._jobs[job_id] = dataclasses.replace(job, lease_expires_at=until)
        return True

    async def finish(self, job_id: str, failure_reason: str | None) -> None:
        job = self._jobs[job_id]
        if job.is_finished:
            return
        state = RenderState.COMPLETED if failure_reason is None else RenderState.FAILED
        self._jobs[job_id] = dataclasses.replace(
            job,
            state=state,
            failure_reason=failure_reason,
            owner=None,
            lease_expires_at=None,
            renders=job.renders + (failure_reason is None),
        )

    async def release(self, job_id: str, owner: str) -> None:
        job = self._jobs.get(job_id)
        if job is not None and job.owner == owner and not job.is_finished:
            self._jobs[job_id] = dataclasses.replace(
                job, state=RenderState.WAITING, owner=None, lease_expires_at=None
            )
