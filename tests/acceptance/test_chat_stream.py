"""OpenAI chat completions for video: SSE progress and the final link, non-streaming answers,
a client that disconnects mid-stream (the task still completes), and the timeout error."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.acceptance import (
    client,
    data_uri,
    download,
    png_bytes,
    start_picture,
    start_server,
    wait_completed,
)
from tests.support.databases import ServerDatabase
from tests.support.servers import GatewayServer

pytestmark = pytest.mark.slow

LINK = re.compile(r"\[[^\]]+\]\((http[^)\s]+\.mp4)\)")
SMALL = {"aspect_ratio": "1:1", "resolution": "540p"}


@dataclass
class Env:
    server: GatewayServer
    key: str
    http: httpx.Client


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, server_database: ServerDatabase) -> Iterator[Env]:
    server = start_server(tmp_path_factory.mktemp("chat") / "data", **server_database())
    try:
        key = server.create_key("chatter")
        with client(server.base_url, key) as http:
            yield Env(server, key, http)
    finally:
        server.stop()


def _body(prompt: Any, stream: bool, model: str = "luma-video-ray2") -> dict[str, Any]:
    return {
        "model": model,
        "stream": stream,
        "messages": [
            {"role": "system", "content": "You make videos."},
            {"role": "user", "content": prompt},
        ],
        **SMALL,
    }


def _events(lines: Iterator[str]) -> Iterator[Any]:
    """Parsed ``data:`` payloads of an SSE stream (``"[DONE]"`` as the string)."""
    for line in lines:
        if line.startswith("data: "):
            payload = line[len("data: ") :]
            yield payload if payload == "[DONE]" else json.loads(payload)


def test_stream_sends_progress_chunks_then_the_link(env: Env) -> None:
    with env.http.stream(
        "POST", "/v1/chat/completions", json=_body("a red fox running", True), timeout=120
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = list(_events(response.iter_lines()))
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks), chunks
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "> queued" in text  # progress lines while the task runs
    assert text.index("> queued") < text.index("Video ready")
    link = LINK.search(text)
    assert link is not None, text
    assert download(env.http, link.group(1))[4:8] == b"ftyp"


def test_disconnect_mid_stream_leaves_the_task_running(env: Env) -> None:
    task_id = None
    with env.http.stream(
        "POST", "/v1/chat/completions", json=_body("a slow sunrise", True), timeout=60
    ) as response:
        for event in _events(response.iter_lines()):
            content = event["choices"][0]["delta"].get("content", "")
            found = re.search(r"`([0-9a-f-]{36})`", content)
            if found:
                task_id = found.group(1)
                break  # leave: the connection closes with the stream unfinished
    assert task_id is not None
    done = wait_completed(env.http, task_id)
    assert done["state"] == "completed"


def test_non_streaming_completion_with_image_parts(env: Env) -> None:
    image = data_uri(png_bytes(start_picture((256, 256))))
    content = [
        {"type": "text", "text": "the picture comes alive"},
        {"type": "image_url", "image_url": {"url": image}},
    ]
    response = env.http.post(
        "/v1/chat/completions", json=_body(content, False, "luma"), timeout=120
    )
    assert response.status_code == 200, response.text
    completion = response.json()
    assert completion["object"] == "chat.completion" and completion["model"] == "luma"
    choice = completion["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    assert LINK.search(choice["message"]["content"])
    official = env.http.get(f"/dream-machine/v1/generations/{completion['task_id']}").json()
    frame0 = official["request"]["keyframes"]["frame0"]
    assert frame0["type"] == "image" and frame0["url"].startswith(env.server.base_url)
    assert official["request"]["prompt"] == "the picture comes alive"


def test_failed_generation_is_reported_in_the_answer(env: Env) -> None:
    response = env.http.post(
        "/v1/chat/completions", json=_body("a clip [[fail]]", False), timeout=120
    )
    assert response.status_code == 200, response.text
    assert "failed: Prompt moderation failed" in response.json()["choices"][0]["message"]["content"]


def test_models_and_chat_errors(env: Env) -> None:
    models = env.http.get("/v1/models").json()
    assert {m["id"] for m in models["data"]} == {
        "luma",
        "luma-video",
        "luma_video_api",
        "luma-video-ray2",
        "luma-video-ray2-flash",
        "ray-2",
        "ray-flash-2",
        "ray-1-6",
    }
    unknown = env.http.post("/v1/chat/completions", json=_body("a cat", False, "gpt-4o"))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"
    empty = env.http.post("/v1/chat/completions", json=_body("   ", False))
    assert empty.status_code == 400 and "error" in empty.json()
    no_user = env.http.post(
        "/v1/chat/completions",
        json={"model": "luma", "messages": [{"role": "system", "content": "hi"}]},
    )
    assert no_user.status_code == 400 and no_user.json()["error"]["message"].startswith("messages")


def test_timeout_answers_a_clear_error(tmp_path: Path, server_database: ServerDatabase) -> None:
    server = start_server(tmp_path / "data", **server_database(), chat_timeout_seconds="0.5")
    try:
        key = server.create_key("impatient")
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as http:
            plain = http.post("/v1/chat/completions", json=_body("a long journey", False))
            assert plain.status_code == 504
            error = plain.json()["error"]
            assert error["code"] == "generation_timeout" and error["type"] == "timeout_error"
            assert "keeps running" in error["message"]
            with http.stream(
                "POST", "/v1/chat/completions", json=_body("another journey", True)
            ) as response:
                assert response.status_code == 200
                events = list(_events(response.iter_lines()))
            assert events[-1] == "[DONE]"
            assert events[-2]["error"]["code"] == "generation_timeout"
    finally:
        server.stop()
