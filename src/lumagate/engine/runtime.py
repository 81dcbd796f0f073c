"""The engine's lifecycle: start the loops beside the API, stop them cleanly on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from lumagate.engine.context import EngineContext
from lumagate.engine.dispatcher import Dispatcher
from lumagate.engine.poll_lease import PollLease
from lumagate.engine.reconciler import Reconciler
from lumagate.engine.refresher import Refresher

log = logging.getLogger(__name__)


def new_replica_id() -> str:
    return f"{socket.gethostname()[:32]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Engine:
    """Dispatcher, refresher and reconciler running as asyncio tasks in the API's process;
    with ``poll_lease`` (replicas on PostgreSQL) the refresher polls only while it holds it."""

    def __init__(self, ctx: EngineContext, poll_lease: PollLease | None = None) -> None:
        self.ctx = ctx
        self.poll_lease = poll_lease
        self.refresher = Refresher(ctx, poll_lease)
        self.dispatcher = Dispatcher(ctx, self.refresher.plan)
        self.reconciler = Reconciler(ctx)
        self._loops: list[asyncio.Task[None]] = []
        self._extra_loops: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = []

    def add_loop(self, name: str, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``run()`` beside the core loops from :meth:`start` (callback sender, sweeps)."""
        self._extra_loops.append((name, run))

    async def start(self) -> None:
        # Settle what a previous process left half-done before taking new work.
        await self.reconciler.reconcile_once()
        self._loops = [
            asyncio.create_task(self.dispatcher.run(), name="lumagate-dispatcher"),
            asyncio.create_task(self.refresher.run(), name="lumagate-refresher"),
            asyncio.create_task(self.reconciler.run(), name="lumagate-reconciler"),
            *(
                asyncio.create_task(run(), name=f"lumagate-{name}")
                for name, run in self._extra_loops
            ),
        ]
        if self.poll_lease is not None:
            keeper = self.poll_lease.run(self.ctx.signals.refresh)
            self._loops.append(asyncio.create_task(keeper, name="lumagate-poll-lease"))
        log.info("engine started as replica %s", self.ctx.replica_id)

    async def stop(self, grace_seconds: float = 5.0) -> None:
        for loop in self._loops:
            loop.cancel()
        for loop in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        # Let in-flight upstream calls finish so their results are recorded, not reconciled.
        await self.dispatcher.drain(grace_seconds)
        self.dispatcher.cancel_all()
        self._loops = []
        if self.poll_lease is not None:  # another replica polls at once, not after the lease
            await self.poll_lease.release()

    def task_queued(self) -> None:
        self.ctx.signals.dispatch.set()

    def accounts_changed(self) -> None:
        """An operator changed the pool: place waiting work, and maintain the accounts now."""
        self.ctx.signals.dispatch.set()
        self.ctx.signals.upkeep.set()
