"""A sandbox render job as every replica sees it: what to render, and who is rendering it now.

The sandbox renders in the process that claimed the job, but replicas come and go: the job and
its lease live in the shared database, so when the replica rendering a job dies (``kill -9``)
its lease runs out and another replica renders the job once more (docs/replicas.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class RenderState(StrEnum):
    WAITING = "waiting"  # recorded; nobody holds a live lease on it
    RENDERING = "rendering"  # a replica holds the lease (it may have died: see the expiry)
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class RenderJob:
    """One sandbox generation: its request, output folder and lease."""

    id: str
    request: dict[str, Any]
    source: str | None  # the generation an extend continues
    media_folder: str
    state: RenderState
    failure_reason: str | None = None
    owner: str | None = None  # the replica holding the lease
    lease_expires_at: datetime | None = None
    renders: int = 0  # renders finished (1 unless a replica died after rendering)

    @property
    def is_finished(self) -> bool:
        return self.state in (RenderState.COMPLETED, RenderState.FAILED)
