"""The relay provider's pure mapping: another gateway's flat objects to upstream jobs."""

from __future__ import annotations

from lumagate.providers.base import UpstreamState
from lumagate.providers.relay import job_from_flat


def test_relay_flat_objects() -> None:
    flat = {
        "id": "t",
        "state": "completed",
        "failure_reason": None,
        "video": {"url": "v", "download_url": "d", "width": 720, "height": 1280},
    }
    job = job_from_flat(flat)
    assert job.media is not None and job.media.download == "d" and job.media.height == 1280
    assert job_from_flat({**flat, "video": None}).state == UpstreamState.PROCESSING
    assert job_from_flat({"id": "t", "state": "pending"}).state == UpstreamState.PENDING
