"""new-api against a real gateway: its Go types (strict mirrors in tests/support/newapi_types.py)
decode every answer it reads, its OpenAI-video relay's multipart submit works, and every form
its web video tool sends changes what is rendered (the MP4 decoded with PyAV)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from lumagate.domain.numeric_ids import numeric_id
from tests.support.acceptance import (
    Decoded,
    client,
    data_uri,
    decode_mp4,
    download,
    end_picture,
    pixels,
    png_bytes,
    start_picture,
    start_server,
)
from tests.support.databases import ServerDatabase
from tests.support.newapi_types import (
    OpenAIVideo,
    OpenAIVideoList,
    SubmitResponse,
    TaskDto,
    TaskError,
    TaskResponse,
)
from tests.support.servers import GatewayServer

pytestmark = pytest.mark.slow
BASE = "/v1/video/generations"
DEADLINE = 180.0


@dataclass
class Env:
    server: GatewayServer
    http: httpx.Client
    other: httpx.Client  # another tenant


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, server_database: ServerDatabase) -> Iterator[Env]:
    server = start_server(tmp_path_factory.mktemp("newapi") / "data", **server_database())
    try:
        key, other_key = server.create_key("newapi"), server.create_key("other")
        with client(server.base_url, key) as http, client(server.base_url, other_key) as other:
            yield Env(server, http, other)
    finally:
        server.stop()


def _submit(http: httpx.Client, body: dict[str, Any]) -> SubmitResponse:
    response = http.post(BASE, json=body)
    assert response.status_code == 200, response.text
    return SubmitResponse.model_validate(response.json())


def _fetch(http: httpx.Client, task: str | int) -> TaskDto:
    response = http.get(f"{BASE}/{task}")
    assert response.status_code == 200, response.text
    return TaskResponse.model_validate(response.json()).data


def _finished(http: httpx.Client, task_id: str) -> TaskDto:
    deadline = time.monotonic() + DEADLINE
    dto = _fetch(http, task_id)
    while dto.status not in ("SUCCESS", "FAILURE"):
        assert time.monotonic() < deadline, f"{task_id} not finished: {dto}"
        time.sleep(0.25)
        dto = _fetch(http, task_id)
    assert dto.status == "SUCCESS", dto
    return dto


def _close(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(pixels(a) - pixels(b)).mean())


def test_submit_and_fetch_decode_as_new_apis_go_types(env: Env) -> None:
    before = int(time.time())
    # Go's VideoRequest sends duration/width/height even when unset (zero values).
    go_body = {
        "model": "ray-2",
        "prompt": "a lighthouse",
        "duration": 0,
        "width": 960,
        "height": 540,
        "metadata": {"loop": False},
    }
    submitted = _submit(env.http, go_body)
    assert submitted.status == "queued"
    queued = _fetch(env.http, submitted.task_id)
    assert queued.task_id == submitted.task_id and queued.platform == "luma"
    assert queued.id == numeric_id(submitted.task_id) and 0 < queued.id < 2**53
    assert queued.submit_time >= before and queued.created_at == queued.submit_time
    assert queued.result_url == "" and queued.progress.endswith("%")
    done = _finished(env.http, submitted.task_id)
    assert done.progress == "100%" and done.action == "LUMA_VIDEO" and done.fail_reason == ""
    assert done.finish_time >= done.start_time >= done.submit_time >= before
    assert done.finish_time <= int(time.time()) + 1  # Unix seconds, not milliseconds
    assert done.result_url.endswith(".mp4") or ".mp4?" in done.result_url
    video = decode_mp4(download(env.http, done.result_url))
    assert (video.width, video.height) == (960, 540)
    assert done.data["video"]["download_url"] == done.result_url  # json.RawMessage: the flat
    # new-api keeps the numeric id too: both read the same task, and only for its owner.
    assert _fetch(env.http, done.id) == _fetch(env.http, done.task_id)
    for http, task in ((env.other, done.id), (env.other, done.task_id), (env.http, 12345)):
        missing = http.get(f"{BASE}/{task}")
        assert missing.status_code == 404
        TaskError.model_validate(missing.json())


def _relay_form(image: bytes) -> tuple[dict[str, str], dict[str, Any]]:
    fields = {"model": "ray-2", "prompt": "relay: a red card", "seconds": "4", "size": "960x540"}
    return fields, {"input_reference": ("ref.png", image, "image/png")}


def test_the_openai_video_relay_posts_multipart_and_reads_the_status(env: Env) -> None:
    fields, files = _relay_form(png_bytes(start_picture((960, 540))))
    response = env.http.post("/v1/videos", data=fields, files=files)
    assert response.status_code == 200, response.text
    created = OpenAIVideo.model_validate(response.json())
    assert created.status == "queued" and response.json()["prompt"] == fields["prompt"]
    fetched = OpenAIVideo.model_validate(env.http.get(f"/v1/videos/{created.id}").json())
    assert fetched.id == created.id and fetched.status in ("queued", "in_progress", "completed")
    page = OpenAIVideoList.model_validate(env.http.get("/v1/videos", params={"limit": 5}).json())
    assert created.id in [v.id for v in page.data]
    dto = _finished(env.http, created.id)  # the same task through new-api's own read
    video = decode_mp4(download(env.http, dto.result_url))
    assert _close(video.first, start_picture()) < 25


def test_a_multipart_submit_to_video_generations(env: Env) -> None:
    fields = {
        "model": "ray-2",
        "prompt": "multipart",
        "aspect_ratio": "1:1",
        "metadata": '{"resolution": "540p"}',
        "seconds": "5",
    }
    files = {"image": ("s.png", png_bytes(end_picture((540, 540))), "image/png")}
    response = env.http.post(BASE, data=fields, files=files)
    assert response.status_code == 200, response.text
    dto = _finished(env.http, SubmitResponse.model_validate(response.json()).task_id)
    video = decode_mp4(download(env.http, dto.result_url))
    assert (video.width, video.height) == (540, 540)
    assert _close(video.first, end_picture()) < 25


def _b64(img: Image.Image) -> str:
    return base64.b64encode(png_bytes(img)).decode("ascii")


START, END = start_picture((960, 540)), end_picture((960, 540))
SMALL = {"size": "960x540"}
# (form, body, what the rendered MP4 must show); the baseline is 960x540, 5 s, text-to-video.
FORMS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "baseline": (SMALL, {"size": (960, 540), "seconds": 5}),
    "aspect_ratio": ({"aspect_ratio": "1:1", "resolution": "540p"}, {"size": (540, 540)}),
    "seconds": ({**SMALL, "seconds": "9"}, {"seconds": 9}),
    "duration": ({**SMALL, "duration": 9}, {"seconds": 9}),
    "size": ({"size": "540x960"}, {"size": (540, 960)}),
    "image": ({**SMALL, "image": data_uri(png_bytes(START))}, {"first": START}),
    "images": (
        {**SMALL, "images": [data_uri(png_bytes(START)), data_uri(png_bytes(END))]},
        {"first": START, "last": END},
    ),
    "media": (
        {**SMALL, "media": [{"type": "image", "data": _b64(END)}]},
        {"first": END},
    ),
    "metadata": (
        {"metadata": {"aspect_ratio": "9:16", "resolution": "540p", "seconds": 9}},
        {"size": (540, 960), "seconds": 9},
    ),
}


def _check_render(name: str, video: Decoded, expected: dict[str, Any]) -> None:
    size = expected.get("size", (960, 540))
    assert (video.width, video.height) == size, name
    assert video.seconds == pytest.approx(expected.get("seconds", 5), abs=0.1), name
    for which in ("first", "last"):
        picture = expected.get(which)
        if picture is not None:
            frame = getattr(video, which)
            assert _close(frame, picture) < 25, f"{name}: {which} frame is not the image"
    if "first" not in expected:  # text-to-video: the clip opens on neither test image
        assert _close(video.first, START) > 25 and _close(video.first, END) > 25, name


def test_each_web_tool_form_changes_what_is_rendered(env: Env) -> None:
    ids = {
        name: _submit(env.http, {"model": "ray-2", "prompt": f"form {name}", **body}).task_id
        for name, (body, _) in FORMS.items()
    }
    for name, task_id in ids.items():
        dto = _finished(env.http, task_id)
        _check_render(name, decode_mp4(download(env.http, dto.result_url)), FORMS[name][1])


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"seconds": "10"}, "seconds"),
        ({"media": [{"type": "video", "url": "https://example.com/v.mp4"}]}, "media[0].type"),
        ({"metadata": {"negative_prompt": "rain"}}, "metadata.negative_prompt"),
        ({"seed": 7}, "seed"),
        ({"style": "anime"}, "style"),
        ({"seconds": 5, "duration": 9}, "duration"),
    ],
    ids=["seconds-10", "media-video", "metadata-unknown", "seed", "unknown-field", "disagree"],
)
def test_unsupported_values_are_a_clear_400(env: Env, body: dict[str, Any], named: str) -> None:
    response = env.http.post(BASE, json={"model": "ray-2", "prompt": "a cat", **body})
    assert response.status_code == 400, response.text
    error = TaskError.model_validate(response.json())
    assert named in error.message and error.data is None
