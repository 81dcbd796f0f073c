"""Helpers for the acceptance tests: an HTTP client that never accepts a 5xx, polling with a
deadline, test images, video decoding and the response-shape checks of CONTRACT §1."""

from __future__ import annotations

import base64
import io
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
from PIL import Image, ImageDraw

from tests.support.http import tls
from tests.support.servers import GatewayServer, server_env

POLL_SECONDS = 0.25
DEADLINE_SECONDS = 120.0
TERMINAL = ("completed", "failed")
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

FLAT_FIELDS = {
    "id",
    "prompt",
    "state",
    "queue_state",
    "created_at",
    "batch_id",
    "video",
    "video_raw",
    "thumbnail",
    "last_frame",
    "liked",
    "estimate_wait_seconds",
    "failure_reason",
    "request",
    "model",
    "server_id",
}
REQUEST_FIELDS = {"prompt", "aspect_ratio", "loop", "model", "resolution", "duration"}
RECORD_FIELDS = {
    "id",
    "task_id",
    "platform",
    "action",
    "status",
    "fail_reason",
    "submit_time",
    "start_time",
    "finish_time",
    "progress",
    "created_at",
    "updated_at",
    "data",
}
NEW_API_STATUSES = {"QUEUED", "SUBMITTED", "IN_PROGRESS", "SUCCESS", "FAILURE"}


# -- servers and clients ------------------------------------------------------------------
def start_server(
    data_dir: Path,
    *,
    fresh_database: bool = False,
    render_default: bool = False,
    **settings: str,
) -> GatewayServer:
    """A started ``lumagate serve`` on ``data_dir`` (fast refresh unless overridden); see
    :attr:`GatewayServer.fresh_database` and :func:`server_env` (``render_default``)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    settings.setdefault("refresh_interval_seconds", "0.5")
    env = server_env(data_dir, render_default=render_default, **settings)
    return GatewayServer(data_dir, env, fresh_database=fresh_database).start()


def _never_5xx(response: httpx.Response) -> None:
    if response.status_code >= 500:
        response.read()
        raise AssertionError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}: {response.text[:500]}"
        )


def client(base_url: str, key: str | None = None) -> httpx.Client:
    """An HTTP client that fails the test on any 5xx answer."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(
        base_url=base_url,
        headers=headers,
        timeout=30.0,
        event_hooks={"response": [_never_5xx]},
        verify=tls(),
    )


def wait_for(
    http: httpx.Client,
    task_id: str,
    states: Iterable[str] = TERMINAL,
    timeout: float = DEADLINE_SECONDS,
) -> dict[str, Any]:
    """Poll ``GET /luma/generations/{id}`` until its state is one of ``states``."""
    wanted = set(states)
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = http.get(f"/luma/generations/{task_id}")
        assert response.status_code == 200, response.text
        body = response.json()
        if body["state"] in wanted:
            return body
        if body["state"] in TERMINAL:
            raise AssertionError(f"task {task_id} ended {body['state']}, not {wanted}: {body}")
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"task {task_id} not {wanted} within {timeout} s; last: {body}")


def wait_completed(http: httpx.Client, task_id: str, timeout: float = DEADLINE_SECONDS) -> Any:
    body = wait_for(http, task_id, ("completed",), timeout)
    assert body["video"]["url"] and body["video"]["download_url"], body
    return body


# -- images -------------------------------------------------------------------------------
def start_picture(size: tuple[int, int] = (320, 180)) -> Image.Image:
    """Red with a white box in the upper left: nothing like :func:`end_picture`."""
    img = Image.new("RGB", size, (220, 30, 30))
    w, h = size
    ImageDraw.Draw(img).rectangle((w // 10, h // 10, w // 2, h // 2), fill=(255, 255, 255))
    return img


def end_picture(size: tuple[int, int] = (320, 180)) -> Image.Image:
    """Dark blue with a yellow disc in the lower right."""
    img = Image.new("RGB", size, (20, 40, 160))
    w, h = size
    ImageDraw.Draw(img).ellipse((w // 2, h // 2, w - w // 10, h - h // 10), fill=(250, 220, 0))
    return img


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def pixels(img: Image.Image, size: tuple[int, int] = (160, 90)) -> np.ndarray:
    return np.asarray(img.convert("RGB").resize(size, Image.Resampling.BILINEAR), dtype=np.int16)


def mad(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference (0..255) of two pictures, compared at one small size."""
    size = (160, round(160 * a.height / a.width))
    return float(np.abs(pixels(a, size) - pixels(b, size)).mean())


# -- video --------------------------------------------------------------------------------
@dataclass
class Decoded:
    width: int
    height: int
    fps: float
    frames: int
    container_seconds: float
    first: Image.Image
    last: Image.Image
    codec: str

    @property
    def seconds(self) -> float:
        return self.frames / self.fps


def decode_mp4(data: bytes) -> Decoded:
    """Decode every frame of an MP4 with PyAV."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate)
        container_seconds = (container.duration or 0) / av.time_base
        first = last = None
        count = 0
        for frame in container.decode(stream):
            if first is None:
                first = frame.to_image()
            last = frame
            count += 1
        assert first is not None and last is not None, "no decodable frames"
        return Decoded(
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            fps=fps,
            frames=count,
            container_seconds=container_seconds,
            first=first,
            last=last.to_image(),
            codec=stream.codec_context.name,
        )


def download(http: httpx.Client, url: str) -> bytes:
    response = http.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:200]}"
    return response.content


def decode_video_of(http: httpx.Client, task: dict[str, Any]) -> Decoded:
    return decode_mp4(download(http, task["video"]["url"]))


# -- shapes -------------------------------------------------------------------------------
def assert_flat(body: Any, task_id: str | None = None) -> None:
    """The flat generation object of CONTRACT §1 (never wrapped in ``{code, data}``)."""
    assert isinstance(body, dict), body
    missing = FLAT_FIELDS - set(body)
    assert not missing, f"flat object lacks {sorted(missing)}: {body}"
    assert "code" not in body and "data" not in body, f"wrapped, not flat: {body}"
    if task_id is not None:
        assert body["id"] == task_id
    assert isinstance(body["id"], str) and len(body["id"]) == 36
    assert body["state"] in ("pending", "processing", "completed", "failed"), body
    assert ISO_Z.match(body["created_at"]), body["created_at"]
    assert isinstance(body["request"], dict)
    assert set(body["request"]) >= REQUEST_FIELDS, body["request"]
    assert isinstance(body["server_id"], str)
    media = ("video", "video_raw", "thumbnail", "last_frame")
    if body["state"] != "completed":
        assert all(body[name] is None for name in media), body
        return
    video = body["video"]
    assert {"url", "width", "height", "thumbnail", "download_url"} <= set(video), video
    assert video["url"] and video["download_url"], video
    for name in ("video_raw", "thumbnail", "last_frame"):
        assert {"url", "width", "height"} <= set(body[name]), body[name]
        assert body[name]["url"]


def assert_record(record: Any, task_id: str) -> None:
    """One new-api task record of a batch query."""
    assert isinstance(record, dict), record
    missing = RECORD_FIELDS - set(record)
    assert not missing, f"task record lacks {sorted(missing)}: {record}"
    assert record["id"] == record["task_id"] == task_id
    assert record["platform"] == "luma"
    assert record["action"] in ("LUMA_VIDEO", "LUMA_EXTEND")
    assert record["status"] in NEW_API_STATUSES
    assert isinstance(record["fail_reason"], str)
    for name in ("submit_time", "start_time", "finish_time"):
        assert isinstance(record[name], int), record
    assert isinstance(record["progress"], str) and record["progress"].endswith("%")
    assert ISO_Z.match(record["created_at"]) and ISO_Z.match(record["updated_at"])
    assert_flat(record["data"], task_id)


def assert_batch(body: Any, task_ids: list[str]) -> None:
    assert isinstance(body, dict), body
    assert body["code"] == "success" and body["message"] == "", body
    assert isinstance(body["data"], list)
    assert sorted(r["id"] for r in body["data"]) == sorted(task_ids), body
    for record in body["data"]:
        assert_record(record, record["id"])


def assert_usage(body: Any) -> None:
    assert isinstance(body, dict), body
    for name in ("consumed", "capacity", "available"):
        assert isinstance(body[name], int) and body[name] >= 0, body
    assert body["capacity"] == body["consumed"] + body["available"]
    assert isinstance(body["subscription"], dict) and "active" in body["subscription"]
    assert isinstance(body["plans"], list)


def assert_error(
    response: httpx.Response, status: int, code: str | None = None, mentions: str | None = None
) -> dict[str, Any]:
    """HTTP ``status`` with exactly the reseller's error body: ``{"error": {"message", "type",
    "code"}}`` and, for the Go ``/luma`` clients, ``"detail": {"reason": <message>, "code": 1}``."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: expected {status}, got "
        f"{response.status_code} {response.text[:300]}"
    )
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    error = body["error"]
    assert body["detail"] == {"reason": error.get("message"), "code": 1}, body
    assert {"message", "type", "code"} <= set(error), body
    assert isinstance(error["message"], str) and error["message"], body
    assert isinstance(error["type"], str) and error["type"], body
    assert isinstance(error["code"], str) and error["code"], body
    if code is not None:
        assert error["code"] == code, body
    if mentions is not None:
        assert mentions in error["message"], f"{mentions!r} not named in {body}"
    return dict(body)
