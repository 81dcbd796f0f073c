"""The web provider's pure mapping: the fields the web app cannot express, and which link of a
completed generation becomes its download (and at what cost in upstream calls)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.request import GenerationRequest
from lumagate.media.store import MediaStore
from lumagate.providers.base import UpstreamState
from lumagate.providers.http import UpstreamHttp
from lumagate.providers.luma_web import LumaWebProvider, dropped_fields
from lumagate.providers.web_session import SessionJars

BASE = "http://web.invalid"
WATERMARKED = "http://cdn.invalid/g1.mp4?wm=1"
RAW = "http://cdn.invalid/g1.mp4"
SIGNED = "http://cdn.invalid/g1.mp4?download=1&sig=s"
ACCOUNT = AccountHandle(
    id="w", name="w", kind="luma-web", base_url=BASE, credentials={"cookie": "access_token=t"}
)


def test_web_drops_what_it_cannot_say() -> None:
    assert dropped_fields(GenerationRequest(prompt="x")) == ()
    assert dropped_fields(GenerationRequest(prompt="x", duration="9s", resolution="4k")) == (
        "resolution",
        "duration",
    )


async def _none(account_id: str, ids: object) -> set[str]:
    return set()


async def _keep(account_id: str, credentials: dict[str, str]) -> None:
    return None


def _completed(**fields: Any) -> dict[str, Any]:
    video = {"url": WATERMARKED, "width": 1280, "height": 720}
    return {"id": "g1", "state": "completed", "video": video, **fields}


async def _job(raw: dict[str, Any], answer: Callable[[httpx.Request], httpx.Response]) -> Any:
    """``job(raw)`` against an upstream answering with ``answer``; (job, paths asked)."""
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return answer(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        media = MediaStore(Path("/nonexistent-media"), "http://127.0.0.1:8000")
        provider = LumaWebProvider(
            UpstreamHttp(client, attempts=1), media, SessionJars(_keep), taken=_none
        )
        return await provider.job(ACCOUNT, raw), asked


async def test_a_listed_raw_video_is_the_download_without_a_call() -> None:
    job, asked = await _job(_completed(video_raw={"url": RAW}), lambda r: httpx.Response(500))
    assert asked == []
    assert job.state == UpstreamState.COMPLETED and job.media is not None
    assert job.media.download == RAW and job.media.video == WATERMARKED


async def test_without_a_raw_video_the_download_link_is_asked_for() -> None:
    job, asked = await _job(_completed(), lambda r: httpx.Response(200, json={"url": SIGNED}))
    assert asked == ["/api/photon/v1/generations/g1/download_video_url"]
    assert job.state == UpstreamState.COMPLETED and job.media.download == SIGNED


async def test_a_plan_without_a_watermark_free_link_completes_with_the_video() -> None:
    job, asked = await _job(_completed(), lambda r: httpx.Response(404, json={"detail": "no"}))
    assert len(asked) == 1
    assert job.state == UpstreamState.COMPLETED and job.media.download == WATERMARKED


async def test_a_failed_download_link_call_is_asked_again_on_the_next_poll() -> None:
    job, asked = await _job(_completed(), lambda r: httpx.Response(503))
    assert len(asked) == 1
    assert job.state == UpstreamState.PROCESSING and job.media is None and job.progress == 99
