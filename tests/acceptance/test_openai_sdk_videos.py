"""OpenAI's Python SDK (3.x, unmodified) drives ``/v1/videos`` and ``/v1/models`` on a real
gateway: create with ``input_reference`` as an upload and as the ``{"image_url": …}`` object,
retrieve, list, remix, every ``download_content`` variant and ``models.retrieve``."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import openai
import pytest
from openai import OpenAI
from openai.types import Video
from PIL import Image

from lumagate.domain.limits import MAX_PROMPT
from tests.support.acceptance import (
    client,
    data_uri,
    decode_mp4,
    end_picture,
    pixels,
    png_bytes,
    start_picture,
    start_server,
)
from tests.support.databases import ServerDatabase
from tests.support.servers import GatewayServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning"),
]
DEADLINE = 120.0
SIZE = "960x540"  # small renders: 540p


@dataclass
class Env:
    server: GatewayServer
    sdk: OpenAI
    key: str


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, server_database: ServerDatabase) -> Iterator[Env]:
    server = start_server(tmp_path_factory.mktemp("openai-sdk") / "data", **server_database())
    try:
        key = server.create_key("sdk")
        sdk = OpenAI(api_key=key, base_url=server.base_url + "/v1", max_retries=0)
        yield Env(server, sdk, key)
        sdk.close()
    finally:
        server.stop()


def _finished(sdk: OpenAI, video_id: str) -> Video:
    deadline = time.monotonic() + DEADLINE
    video = sdk.videos.retrieve(video_id)
    while video.status not in ("completed", "failed"):
        assert time.monotonic() < deadline, f"{video_id} not finished: {video}"
        time.sleep(0.25)
        video = sdk.videos.retrieve(video_id)
    assert video.status == "completed", video
    return video


def _close(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(pixels(a) - pixels(b)).mean())


def test_create_with_an_uploaded_reference_then_retrieve_list_and_download(env: Env) -> None:
    upload = ("start.png", png_bytes(start_picture((960, 540))), "image/png")
    created = env.sdk.videos.create(
        prompt="a red card on a table",
        model="ray-2",
        seconds="4",
        size=SIZE,
        input_reference=upload,
    )
    assert created.object == "video" and created.status == "queued"
    assert created.prompt == "a red card on a table"  # echoed on every Video
    assert (created.seconds, created.size, created.model) == ("5", SIZE, "ray-2")
    done = _finished(env.sdk, created.id)
    assert done.prompt == created.prompt and done.progress == 100 and done.completed_at
    assert created.id in [v.id for v in env.sdk.videos.list(limit=10)]
    assert all(v.prompt is not None for v in env.sdk.videos.list(limit=10))
    video = decode_mp4(env.sdk.videos.download_content(created.id).read())
    assert (video.width, video.height) == (960, 540)
    assert _close(video.first, start_picture()) < 25  # the upload is the first frame
    thumb = env.sdk.videos.download_content(created.id, variant="thumbnail")
    assert Image.open(io.BytesIO(thumb.read())).format == "JPEG"
    sheet = env.sdk.videos.download_content(created.id, variant="spritesheet")
    assert sheet.response.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(sheet.read())) as image:
        assert image.format == "JPEG" and image.size == (5 * 256, 5 * 144)
        first_tile = image.crop((0, 0, 256, 144))
    assert _close(first_tile, start_picture()) < 30  # tile 1 is the first frame


def test_create_with_the_reference_object_and_remix(env: Env) -> None:
    reference = {"image_url": data_uri(png_bytes(end_picture((960, 540))))}
    # SDK 3.51's create() cannot send the object itself (its file extraction asserts a file),
    # so the two ways it reaches the API: as JSON (the REST form), and in create()'s
    # multipart body through extra_body (flattened to input_reference[image_url]).
    body = {"prompt": "a blue night", "model": "ray-2", "size": SIZE, "input_reference": reference}
    created = env.sdk.post("/videos", body=body, cast_to=Video)
    flattened = env.sdk.videos.create(
        prompt="a blue night, again",
        model="ray-2",
        size=SIZE,
        extra_body={"input_reference": reference},
    )
    again = decode_mp4(env.sdk.videos.download_content(_finished(env.sdk, flattened.id).id).read())
    assert _close(again.first, end_picture()) < 25
    source = _finished(env.sdk, created.id)
    source_video = decode_mp4(env.sdk.videos.download_content(source.id).read())
    assert _close(source_video.first, end_picture()) < 25  # the image_url is the first frame
    remix = env.sdk.videos.remix(source.id, prompt="the same night, now with snow")
    assert remix.id != source.id and remix.remixed_from_video_id == source.id
    assert remix.prompt == "the same night, now with snow"
    assert (remix.size, remix.seconds, remix.model) == (source.size, source.seconds, "ray-2")
    remixed = _finished(env.sdk, remix.id)
    video = decode_mp4(env.sdk.videos.download_content(remixed.id).read())
    # Done as an extend: the remix starts where the source ended.
    assert _close(video.first, source_video.last) < 25
    with client(env.server.base_url, env.key) as http:
        refused = http.post(f"/v1/videos/{remix.id}/remix", json={"prompt": " "})
        assert refused.status_code == 400 and "prompt" in refused.json()["error"]["message"]
        # A prompt past the bound every dialect shares: refused naming it, nothing created.
        before = [video.id for video in env.sdk.videos.list(limit=100)]
        too_long = http.post(
            f"/v1/videos/{remixed.id}/remix", json={"prompt": "x" * (MAX_PROMPT + 1)}
        )
        assert too_long.status_code == 400, too_long.text
        error = too_long.json()["error"]
        assert "prompt" in error["message"] and str(MAX_PROMPT) in error["message"]
        assert [video.id for video in env.sdk.videos.list(limit=100)] == before


def test_refusals_are_openai_errors_the_sdk_raises(env: Env) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        body = {"prompt": "x", "model": "ray-2", "input_reference": {"file_id": "file-abc"}}
        env.sdk.post("/videos", body=body, cast_to=Video)
    assert "file_id is not supported" in caught.value.message
    with pytest.raises(openai.BadRequestError) as caught:  # the same, flattened in multipart
        env.sdk.videos.create(prompt="x", extra_body={"input_reference": {"file_id": "f-1"}})
    assert "file_id is not supported" in caught.value.message
    queued = env.sdk.videos.create(prompt="[[fail]] a failing one", model="ray-2", size=SIZE)
    with pytest.raises(openai.BadRequestError):  # not completed: nothing to remix
        env.sdk.videos.remix(queued.id, prompt="again")
    with pytest.raises(openai.NotFoundError):
        env.sdk.videos.remix("00000000-0000-4000-8000-000000000000", prompt="again")


def test_models_retrieve_and_its_404(env: Env) -> None:
    listed = {m.id for m in env.sdk.models.list()}
    assert {"ray-2", "ray-flash-2", "luma-video-ray2"} <= listed
    for name in ("ray-2", "luma-video-ray2"):
        model = env.sdk.models.retrieve(name)
        assert (model.id, model.object, model.owned_by) == (name, "model", "lumagate")
    with pytest.raises(openai.NotFoundError) as caught:
        env.sdk.models.retrieve("sora-2")
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "model_not_found"
    assert body["type"] and "sora-2" in body["message"]
