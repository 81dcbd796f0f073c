"""The sandbox's frame rate setting (``sandbox_fps``): a clip of the asked length at that rate.

The test servers render at 8 fps (tests/support/servers.py) and the first-video acceptance test
checks the default's 24 fps; this is where a rate other than the default is seen to reach the
encoder through the provider, for a clip and for an extend of it.
"""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import av
import pytest
from pydantic import ValidationError

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.request import GenerationRequest
from lumagate.media.store import MediaStore
from lumagate.providers.base import Submission, UpstreamJob, UpstreamState
from lumagate.providers.sandbox.provider import SandboxProvider
from lumagate.settings import Settings

ACCOUNT = AccountHandle(id="sandbox", name="sandbox", kind="sandbox")
RENDER_TIMEOUT = 60.0


async def _rendered(provider: SandboxProvider, upstream_id: str) -> UpstreamJob:
    deadline = time.monotonic() + RENDER_TIMEOUT
    while time.monotonic() < deadline:
        job = (await provider.refresh_many(ACCOUNT, [upstream_id]))[upstream_id]
        if job.state in (UpstreamState.COMPLETED, UpstreamState.FAILED):
            assert job.state == UpstreamState.COMPLETED, job.failure_reason
            return job
        await asyncio.sleep(0.05)  # the next poll, as the engine's refresher polls
    raise AssertionError(f"{upstream_id} not rendered within {RENDER_TIMEOUT} s")


def _clip(path: Path) -> tuple[int, float, float]:
    """Frames, frame rate and seconds of an MP4, decoded."""
    with av.open(io.BytesIO(path.read_bytes())) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        seconds = (container.duration or 0) / av.time_base
        return frames, float(stream.average_rate or 0), seconds


async def test_a_clip_has_the_configured_frame_rate_and_the_asked_length(tmp_path: Path) -> None:
    media = MediaStore(tmp_path / "media", "http://127.0.0.1:9")
    provider = SandboxProvider(tmp_path / "sandbox", media, fps=8)
    five = GenerationRequest(prompt="eight frames a second", aspect_ratio="1:1", resolution="540p")
    nine = five.model_copy(update={"duration": "9s"})
    try:
        first = await provider.submit(ACCOUNT, Submission(intent_id="fps-5s", request=five))
        done = await _rendered(provider, first.upstream_id)
        extend = Submission("fps-9s", nine, extend_of_upstream_id=first.upstream_id)
        extended = await _rendered(provider, (await provider.extend(ACCOUNT, extend)).upstream_id)
        for job, frames, seconds in ((done, 40, 5.0), (extended, 72, 9.0)):
            assert job.media is not None and job.media.video is not None
            count, rate, length = _clip(media.path_for(job.media.video.removeprefix("media:")))
            assert (count, rate) == (frames, 8.0)
            assert length == pytest.approx(seconds, abs=0.2)
    finally:
        await provider.close()


@pytest.mark.parametrize("fps", ["5", "25", "eight"])
def test_a_frame_rate_outside_6_to_24_is_refused(fps: str) -> None:
    with pytest.raises(ValidationError, match="sandbox_fps"):
        Settings(sandbox_fps=fps)
