"""The raw SQLite writer's WAL checkpoints, in a worker thread while raw writes wait.

The raw writer (``store/hot_write.py``) commits on the event loop thread. With SQLite's
autocheckpoint on, the commit that crosses 1,000 WAL pages copies them into the database and
syncs it right there, stalling every request of the process for tens of milliseconds (156 ms
measured under load). So that connection runs with ``wal_autocheckpoint=0`` and this counts its
commits: after ``every`` of them a ``RESTART`` checkpoint runs in a worker thread on its own
connection, and the raw writer awaits its end before its next ``BEGIN`` (the loop runs
meanwhile). Nothing raw appends to the WAL during the checkpoint, so it copies the whole WAL and
the next commit writes it from its start again: the WAL stays as small as SQLite's default
keeps it. A checkpoint in a thread while creates went on appending never caught up (the WAL
grew to hundreds of MiB, docs/bench.md, Write path). The engine's connections keep SQLite's
default; their rare writes meanwhile wait on the checkpoint's lock in their own thread.

Commits, not pages, are counted: the driver does not tell a commit's WAL frames without a
checkpoint call; a create writes ~18 pages, so ``CHECKPOINT_EVERY`` keeps a WAL of ~900 pages.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 48  # raw commits of ~18 WAL pages: ~900 pages, under SQLite's 1,000
CHECKPOINT_BUSY_SECONDS = 0.2  # how long the checkpoint waits for another writer or old readers


class WalCheckpoints:
    """Counts a raw writer's commits and checkpoints the WAL in a worker thread every ``every``
    of them; :meth:`finished` is what the writer awaits before writing."""

    def __init__(
        self,
        path: str,
        every: int = CHECKPOINT_EVERY,
        busy_seconds: float = CHECKPOINT_BUSY_SECONDS,
    ) -> None:
        self._uri = Path(path).resolve().as_uri() + "?mode=rw"
        self.every = every
        self.busy_seconds = busy_seconds
        self.runs = 0  # checkpoints done (tests, the write profile)
        self.incomplete = 0  # of them, ones that could not copy the whole WAL (busy)
        self.longest = 0.0  # seconds of the longest: what raw writes waited at most
        self._since = 0
        self._running: asyncio.Task[None] | None = None
        self._conn: sqlite3.Connection | None = None

    @property
    def running(self) -> bool:
        """A checkpoint is under way (raw writes wait for it)."""
        return self._running is not None

    async def finished(self) -> None:
        """Returns at once, or when the running checkpoint has ended (never raises its error)."""
        while self._running is not None:
            await asyncio.wait((self._running,))

    def committed(self) -> None:
        """One raw commit more; starts a checkpoint when ``every`` have been counted."""
        self._since += 1
        if self._since >= self.every and self._running is None:
            self._since = 0
            self._running = asyncio.get_running_loop().create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        start = time.perf_counter()
        try:
            busy, wal_pages, copied = await asyncio.to_thread(self._restart)
            self.runs += 1
            self.longest = max(self.longest, time.perf_counter() - start)
            if busy or wal_pages != copied:
                self.incomplete += 1
                log.debug("WAL checkpoint incomplete: %s of %s pages", copied, wal_pages)
        except sqlite3.Error:  # the next one tries again; the engine's autocheckpoint remains
            log.warning("the raw writer's WAL checkpoint failed", exc_info=True)
            await asyncio.to_thread(self._forget)
        finally:
            self._running = None

    def _restart(self) -> tuple[int, int, int]:
        """In the worker thread: copy the WAL, wait (a while) for readers of it to end, so the
        next writer restarts it; ``(busy, WAL pages, pages copied)``."""
        if self._conn is None:
            self._conn = sqlite3.connect(
                self._uri,
                uri=True,
                isolation_level=None,
                check_same_thread=False,  # one thread at a time: one checkpoint runs at once
                timeout=self.busy_seconds,
            )
        busy, wal_pages, copied = self._conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        return int(busy), int(wal_pages), int(copied)

    def _forget(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def close(self) -> None:
        await self.finished()
        if self._conn is not None:
            await asyncio.to_thread(self._forget)
