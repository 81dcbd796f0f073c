"""The foundation issue's promise, over real HTTP: a fresh install makes a real video.

A key from the CLI, a create in the reseller dialect, polling until ``completed``, then the
MP4 and the JPEGs downloaded and decoded: right size, length and frame rate, keyframes shown,
loop closes, extend continues, 9 s and portrait work.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from PIL import Image

from tests.support.acceptance import (
    assert_flat,
    client,
    data_uri,
    decode_mp4,
    decode_video_of,
    download,
    end_picture,
    mad,
    png_bytes,
    start_picture,
    start_server,
    wait_completed,
)
from tests.support.databases import ServerDatabase
from tests.support.servers import GatewayServer

pytestmark = pytest.mark.slow

CLOSE = 12.0  # mean abs difference (0..255) that still means "the same picture"
FAR = 50.0  # ... and one that clearly means "another picture"
FIRST_PROMPT = "a red fox running"
LOOP_PROMPT = "waves rolling onto a beach at dusk"


@dataclass
class Env:
    server: GatewayServer
    key: str
    http: httpx.Client
    ids: dict[str, str]


def _create(http: httpx.Client, body: dict[str, object]) -> str:
    response = http.post("/luma/generations", json=body)
    assert response.status_code == 200, response.text
    created = response.json()
    assert_flat(created)
    assert created["state"] in ("pending", "processing")
    return str(created["id"])


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, server_database: ServerDatabase) -> Iterator[Env]:
    """One server; every task of this module is submitted at once so renders overlap. It starts
    on an empty database and migrates it itself, as a newcomer's first ``lumagate serve``, and
    renders at the default frame rate."""
    data_dir = tmp_path_factory.mktemp("first-video") / "data"
    database = server_database(migrated=False)
    server = start_server(data_dir, fresh_database=True, render_default=True, **database)
    try:
        key = server.create_key("first-video")
        with client(server.base_url, key) as http:
            ids = {
                "first": _create(http, {"user_prompt": FIRST_PROMPT, "aspect_ratio": "16:9"}),
                "keyframes": _create(
                    http,
                    {
                        "user_prompt": "from red to blue",
                        "resolution": "540p",
                        "image_url": data_uri(png_bytes(start_picture())),
                        "image_end_url": data_uri(png_bytes(end_picture())),
                    },
                ),
                "loop": _create(
                    http, {"user_prompt": LOOP_PROMPT, "loop": True, "resolution": "540p"}
                ),
                # Same prompt without loop: the control showing that loop is what closes it.
                "nine": _create(
                    http, {"user_prompt": LOOP_PROMPT, "duration": "9s", "resolution": "540p"}
                ),
                "portrait": _create(http, {"user_prompt": "a tall tower", "aspect_ratio": "9:16"}),
            }
            yield Env(server, key, http, ids)
    finally:
        server.stop()


def _jpeg(http: httpx.Client, url: str) -> Image.Image:
    data = download(http, url)
    assert data[:3] == b"\xff\xd8\xff", f"{url} is not a JPEG: {data[:8]!r}"
    img = Image.open(io.BytesIO(data))
    img.load()
    assert img.format == "JPEG"
    return img


def test_first_video_is_a_real_720p_clip(env: Env) -> None:
    task = wait_completed(env.http, env.ids["first"])
    assert_flat(task, env.ids["first"])
    assert task["prompt"] == FIRST_PROMPT
    assert task["request"]["aspect_ratio"] == "16:9"
    assert (task["video"]["width"], task["video"]["height"]) == (1280, 720)
    assert "sandbox" in task["server_id"]  # labelled as sandbox output, never as Luma's

    video = task["video"]
    response = env.http.get(video["url"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("video/mp4")
    clip = decode_mp4(response.content)
    assert clip.codec == "h264"
    assert (clip.width, clip.height) == (1280, 720)
    assert clip.fps == pytest.approx(24.0)
    assert clip.seconds == pytest.approx(5.0, abs=0.2)
    assert clip.container_seconds == pytest.approx(5.0, abs=0.2)
    # The watermark-free link is a playable clip too.
    assert decode_mp4(download(env.http, video["download_url"])).frames == clip.frames

    thumbnail = _jpeg(env.http, task["thumbnail"]["url"])
    last_frame = _jpeg(env.http, task["last_frame"]["url"])
    assert thumbnail.size == last_frame.size == (1280, 720)
    assert _jpeg(env.http, video["thumbnail"]).size == (1280, 720)
    assert mad(last_frame, clip.last) < CLOSE  # the last-frame image is the clip's last frame

    ranged = env.http.get(video["url"], headers={"Range": "bytes=0-1023"})
    assert ranged.status_code == 206
    assert len(ranged.content) == 1024
    assert ranged.headers["content-range"].startswith("bytes 0-1023/")
    assert ranged.content == response.content[:1024]


def test_start_and_end_images_are_the_first_and_last_frames(env: Env) -> None:
    task = wait_completed(env.http, env.ids["keyframes"])
    clip = decode_video_of(env.http, task)
    assert (clip.width, clip.height) == (960, 540)
    start, end = start_picture(), end_picture()
    assert mad(start, end) > FAR  # the two keyframes really are different pictures
    assert mad(clip.first, start) < CLOSE
    assert mad(clip.last, end) < CLOSE
    assert mad(clip.first, end) > FAR
    assert mad(clip.last, start) > FAR


def test_loop_ends_where_it_starts(env: Env) -> None:
    looped = decode_video_of(env.http, wait_completed(env.http, env.ids["loop"]))
    assert mad(looped.first, looped.last) < CLOSE
    # Without loop the same prompt does not come back to its first frame.
    control = decode_video_of(env.http, wait_completed(env.http, env.ids["nine"]))
    assert mad(control.first, looped.first) < CLOSE
    assert mad(control.first, control.last) > 2 * CLOSE


def test_nine_seconds(env: Env) -> None:
    task = wait_completed(env.http, env.ids["nine"])
    assert task["request"]["duration"] == "9s"
    clip = decode_video_of(env.http, task)
    assert (clip.width, clip.height) == (960, 540)
    assert clip.fps == pytest.approx(24.0)
    assert clip.seconds == pytest.approx(9.0, abs=0.2)
    assert clip.container_seconds == pytest.approx(9.0, abs=0.2)


def test_portrait_is_720_by_1280(env: Env) -> None:
    task = wait_completed(env.http, env.ids["portrait"])
    assert (task["video"]["width"], task["video"]["height"]) == (720, 1280)
    clip = decode_video_of(env.http, task)
    assert (clip.width, clip.height) == (720, 1280)
    assert clip.seconds == pytest.approx(5.0, abs=0.2)
    assert _jpeg(env.http, task["thumbnail"]["url"]).size == (720, 1280)
    assert _jpeg(env.http, task["last_frame"]["url"]).size == (720, 1280)


def test_extend_continues_from_the_last_frame(env: Env) -> None:
    source_id = env.ids["keyframes"]
    source = wait_completed(env.http, source_id)
    response = env.http.post(
        f"/luma/generations/{source_id}/extend", json={"user_prompt": "and then it rains"}
    )
    assert response.status_code == 200, response.text
    extended = response.json()
    assert_flat(extended)
    assert extended["id"] != source_id
    assert extended["prompt"] == "and then it rains"

    done = wait_completed(env.http, extended["id"])
    clip = decode_video_of(env.http, done)
    source_clip = decode_video_of(env.http, source)
    assert (clip.width, clip.height) == (source_clip.width, source_clip.height)
    assert clip.seconds == pytest.approx(5.0, abs=0.2)
    assert mad(clip.first, source_clip.last) < CLOSE
    assert mad(clip.first, source_clip.first) > FAR
