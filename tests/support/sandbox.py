"""Driving a :class:`SandboxProvider` in-process the way the engine's refresher does: polling a
job until it ends, with a deadline (the sandbox's lease and frame-rate tests share it)."""

from __future__ import annotations

import asyncio
import time

from lumagate.domain.accounts import AccountHandle
from lumagate.providers.base import UpstreamJob, UpstreamState
from lumagate.providers.sandbox.provider import SandboxProvider

ACCOUNT = AccountHandle(id="sandbox", name="sandbox", kind="sandbox")
RENDER_TIMEOUT = 60.0


async def poll_until_done(provider: SandboxProvider, upstream_id: str) -> UpstreamJob:
    """The job once it is completed or failed; fails the test after :data:`RENDER_TIMEOUT`."""
    deadline = time.monotonic() + RENDER_TIMEOUT
    while time.monotonic() < deadline:
        job = (await provider.refresh_many(ACCOUNT, [upstream_id]))[upstream_id]
        if job.state in (UpstreamState.COMPLETED, UpstreamState.FAILED):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"{upstream_id} not done within {RENDER_TIMEOUT} s")
