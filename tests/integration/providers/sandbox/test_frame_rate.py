"""The sandbox's frame rate setting (``sandbox_fps``): a clip of the asked length at that rate.

The test servers render at 6 fps (tests/support/servers.py) and the first-video acceptance test
checks the default's 24 fps; this is where a rate other than the default is seen to reach the
encoder through the provider, for a clip and for an extend of it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lumagate.domain.request import GenerationRequest
from lumagate.media.store import MediaStore
from lumagate.providers.base import Submission, UpstreamState
from lumagate.providers.sandbox.provider import SandboxProvider
from lumagate.settings import Settings
from tests.support.acceptance import decode_mp4
from tests.support.sandbox import ACCOUNT, poll_until_done


async def test_a_clip_has_the_configured_frame_rate_and_the_asked_length(tmp_path: Path) -> None:
    media = MediaStore(tmp_path / "media", "http://127.0.0.1:9")
    provider = SandboxProvider(tmp_path / "sandbox", media, fps=8)
    five = GenerationRequest(prompt="eight frames a second", aspect_ratio="1:1", resolution="540p")
    nine = five.model_copy(update={"duration": "9s"})
    try:
        first = await provider.submit(ACCOUNT, Submission(intent_id="fps-5s", request=five))
        done = await poll_until_done(provider, first.upstream_id)
        extend = Submission("fps-9s", nine, extend_of_upstream_id=first.upstream_id)
        second = await provider.extend(ACCOUNT, extend)
        extended = await poll_until_done(provider, second.upstream_id)
        for job, frames, seconds in ((done, 40, 5.0), (extended, 72, 9.0)):
            assert job.state == UpstreamState.COMPLETED, job.failure_reason
            assert job.media is not None and job.media.video is not None
            path = media.path_for(job.media.video.removeprefix("media:"))
            clip = decode_mp4(path.read_bytes())
            assert (clip.frames, clip.fps) == (frames, 8.0)
            assert clip.container_seconds == pytest.approx(seconds, abs=0.2)
    finally:
        await provider.close()


@pytest.mark.parametrize("fps", ["5", "25", "eight"])
def test_a_frame_rate_outside_6_to_24_is_refused(fps: str) -> None:
    with pytest.raises(ValidationError, match="sandbox_fps"):
        Settings(sandbox_fps=fps)
