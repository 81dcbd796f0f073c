"""The official ``lumaai`` SDK, unmodified, against the gateway's ``/dream-machine/v1``.

Create through both create methods the SDK has, poll until completed, list, extend and
interpolate through keyframes, credits, ping, delete; and the SDK's own exception classes for
401, 404, 400 and 422.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lumaai
import pytest
from lumaai import LumaAI
from lumaai.types import Generation

from tests.support.acceptance import start_server
from tests.support.databases import ServerDatabase
from tests.support.servers import GatewayServer

pytestmark = pytest.mark.slow

SMALL = {"aspect_ratio": "1:1", "resolution": "540p"}


@dataclass
class Env:
    server: GatewayServer
    key: str
    sdk: LumaAI


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, server_database: ServerDatabase) -> Iterator[Env]:
    server = start_server(tmp_path_factory.mktemp("sdk") / "data", **server_database())
    try:
        key = server.create_key("sdk-user", "--credits", "100000")
        sdk = LumaAI(auth_token=key, base_url=f"{server.base_url}/dream-machine/v1", max_retries=0)
        yield Env(server, key, sdk)
    finally:
        server.stop()


def _completed(sdk: LumaAI, generation_id: str, timeout: float = 90.0) -> Generation:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation = sdk.generations.get(generation_id)
        assert generation.state in ("queued", "dreaming", "completed"), generation
        if generation.state == "completed":
            return generation
        time.sleep(0.25)
    raise AssertionError(f"{generation_id} did not complete within {timeout} s")


def test_create_with_both_methods_get_until_completed_and_list(env: Env) -> None:
    first = env.sdk.generations.create(model="ray-2", prompt="a red fox running", **SMALL)
    second = env.sdk.generations.video.create(
        model="ray-flash-2", prompt="a paper boat on a pond", duration="5s", **SMALL
    )
    for created in (first, second):
        assert isinstance(created, Generation)
        assert created.id and created.state == "queued"
        assert created.generation_type == "video"
        assert created.created_at is not None
    done = _completed(env.sdk, first.id)
    assert done.assets is not None and done.assets.video and done.assets.image
    assert done.assets.video.endswith(".mp4")
    assert done.model == "ray-2" and done.failure_reason is None
    assert _completed(env.sdk, second.id).model == "ray-flash-2"

    page = env.sdk.generations.list(limit=1, offset=0)
    assert page.count == 1 and page.has_more is True and page.limit == 1 and page.offset == 0
    assert page.generations[0].id == second.id  # newest first
    everything = env.sdk.generations.list(limit=100)
    assert {first.id, second.id} <= {g.id for g in everything.generations}
    assert everything.has_more is False


def test_extend_and_interpolate_through_keyframes(env: Env) -> None:
    source = env.sdk.generations.create(model="ray-2", prompt="a lighthouse at dusk", **SMALL)
    other = env.sdk.generations.create(model="ray-2", prompt="a harbour at night", **SMALL)
    _completed(env.sdk, source.id)
    _completed(env.sdk, other.id)

    extended = env.sdk.generations.create(
        model="ray-2",
        prompt="the light sweeps over the sea",
        keyframes={"frame0": {"type": "generation", "id": source.id}},
    )
    done = _completed(env.sdk, extended.id)
    request = done.request
    assert request is not None
    frame0 = request.keyframes.frame0  # type: ignore[union-attr]
    assert frame0 is not None and frame0.type == "generation" and frame0.id == source.id
    assert request.aspect_ratio == "1:1"  # an extend keeps its source's size

    between = env.sdk.generations.create(
        model="ray-2",
        prompt="from the lighthouse to the harbour",
        keyframes={
            "frame0": {"type": "generation", "id": source.id},
            "frame1": {"type": "generation", "id": other.id},
        },
        **SMALL,
    )
    assert _completed(env.sdk, between.id).assets.video  # type: ignore[union-attr]


def test_credits_ping_concepts_and_delete(env: Env) -> None:
    credits = env.sdk.credits.get()
    assert isinstance(credits.credit_balance, float) and credits.credit_balance > 0
    assert env.sdk.ping.check().message == "pong"
    concepts = env.sdk.generations.concepts.list()
    assert "dolly_zoom" in concepts

    created = env.sdk.generations.create(model="ray-2", prompt="a short-lived clip", **SMALL)
    assert env.sdk.generations.delete(created.id) is None
    with pytest.raises(lumaai.NotFoundError):
        env.sdk.generations.get(created.id)
    assert created.id not in {g.id for g in env.sdk.generations.list(limit=100).generations}


def test_base_url_from_environment(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUMAAI_BASE_URL", f"{env.server.base_url}/dream-machine/v1")
    monkeypatch.setenv("LUMAAI_API_KEY", env.key)
    assert LumaAI(max_retries=0).ping.check().message == "pong"
    assert LumaAI(max_retries=0).credits.get().credit_balance > 0


def test_sdk_exception_classes(env: Env, tmp_path: Path) -> None:
    stranger = LumaAI(
        auth_token="not-a-key", base_url=f"{env.server.base_url}/dream-machine/v1", max_retries=0
    )
    with pytest.raises(lumaai.AuthenticationError):
        stranger.generations.list()
    with pytest.raises(lumaai.NotFoundError) as missing:
        env.sdk.generations.get("00000000-0000-4000-8000-000000000000")
    assert missing.value.body == {"detail": "Generation not found"}
    with pytest.raises(lumaai.BadRequestError) as short:
        env.sdk.generations.create(model="ray-2", prompt="hi")
    assert short.value.body == {"detail": "Prompt is too short, minimum length is 3 characters"}
    with pytest.raises(lumaai.BadRequestError, match="Loop is not supported for end frame"):
        env.sdk.generations.create(
            model="ray-2",
            prompt="a loop with an end",
            loop=True,
            keyframes={"frame1": {"type": "image", "url": "https://example.com/end.jpg"}},
        )
    with pytest.raises(lumaai.UnprocessableEntityError) as invalid:
        env.sdk.generations.create(
            model="ray-2",
            prompt="a wrong aspect ratio",
            aspect_ratio="5:4",  # type: ignore[arg-type]
        )
    detail = invalid.value.body["detail"]  # type: ignore[index]
    assert isinstance(detail, list) and detail[0]["loc"] == ["body", "aspect_ratio"]
    with pytest.raises(lumaai.BadRequestError, match="not supported by this gateway"):
        env.sdk.generations.image.create(model="photon-1", prompt="a still life")
