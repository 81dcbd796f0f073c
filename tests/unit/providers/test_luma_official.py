"""The official provider's pure mappings: request fields, keyframes, generation states."""

from __future__ import annotations

from pathlib import Path

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.request import GenerationRequest
from lumagate.media.store import MediaStore
from lumagate.providers.base import Rejected, Submission, UpstreamState
from lumagate.providers.luma_official import LumaOfficialProvider, same_request


async def _none(account_id: str, ids: object) -> set[str]:
    return set()


def _official(public: str = "http://127.0.0.1:8000") -> LumaOfficialProvider:
    media = MediaStore(Path("/nonexistent-media"), public)
    return LumaOfficialProvider(None, media, public_base_url=public, taken=_none)  # type: ignore[arg-type]


def _account(
    base: str = "http://127.0.0.1:9/dream-machine/v1", **settings: object
) -> AccountHandle:
    return AccountHandle(
        id="a",
        name="a",
        kind="luma-official",
        base_url=base,
        credentials={"api_key": "luma-k"},
        settings=settings,
    )


def test_official_body_maps_fields_and_records_what_it_drops() -> None:
    request = GenerationRequest(
        prompt="a fox",
        aspect_ratio="9:16",
        loop=True,
        resolution="1080p",
        duration="9s",
        start_image="media:uploads/ab/x.png",
        end_image="https://cdn.example/b.jpg",
        concepts=("dolly_zoom",),
    )
    body, dropped = _official().body(_account(hook_token="tok"), Submission("t", request))
    assert body == {
        "model": "ray-2",
        "aspect_ratio": "9:16",
        "loop": True,
        "resolution": "1080p",
        "duration": "9s",
        "prompt": "a fox",
        "keyframes": {
            "frame0": {"type": "image", "url": "http://127.0.0.1:8000/files/uploads/ab/x.png"},
            "frame1": {"type": "image", "url": "https://cdn.example/b.jpg"},
        },
        "concepts": [{"key": "dolly_zoom"}],
        "callback_url": "http://127.0.0.1:8000/upstream-hooks/tok",
    }
    assert dropped == ("expand_prompt",)
    echoed = {k: v for k, v in body.items() if k != "callback_url"}
    assert same_request(body, echoed) and not same_request(body, {**echoed, "loop": False})


def test_official_extend_uses_the_source_generation_and_ray_1_6_drops_fields() -> None:
    request = GenerationRequest(prompt="more", model="ray-1-6", duration="9s", expand_prompt=False)
    body, dropped = _official().body(
        _account(), Submission("t", request, extend_of_upstream_id="g1")
    )
    assert body["keyframes"] == {"frame0": {"type": "generation", "id": "g1"}}
    assert "duration" not in body and "callback_url" not in body and dropped == ("duration",)


def test_official_refuses_loopback_images_for_a_remote_upstream() -> None:
    request = GenerationRequest(prompt="x", start_image="media:uploads/ab/x.png")
    remote = _account(base="https://api.lumalabs.ai/dream-machine/v1", hook_token="tok")
    try:
        _official().body(remote, Submission("t", request))
    except Rejected as exc:
        assert "LUMAGATE_PUBLIC_URL" in exc.message
    else:
        raise AssertionError("a loopback image URL must not be sent to a remote upstream")
    assert _official().callback_url(remote) is None  # and no unreachable callback either


def test_official_generation_states() -> None:
    provider = _official()
    done = provider.job(
        {
            "id": "g",
            "state": "completed",
            "assets": {"video": "v.mp4"},
            "request": {"aspect_ratio": "1:1", "resolution": "540p"},
        }
    )
    assert done.state == UpstreamState.COMPLETED and done.media is not None
    assert (done.media.width, done.media.height, done.media.download) == (540, 540, "v.mp4")
    assert provider.job({"id": "g", "state": "completed", "assets": {}}).state == (
        UpstreamState.PROCESSING
    )
    failed = provider.job({"id": "g", "state": "failed", "failure_reason": "Job failed"})
    assert failed.state == UpstreamState.FAILED and failed.failure_reason == "Job failed"
