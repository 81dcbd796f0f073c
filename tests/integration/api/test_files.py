"""The ``/files/{key}`` route in a real FastAPI app: whole files, ranges, HEAD, types, 404s.

Most requests go through httpx's ASGI transport; paths that an HTTP client would normalize away
(a literal ``..``) are sent as raw ASGI scopes, and one test runs a real uvicorn server on
127.0.0.1 to see the route behave over a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import socket
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from PIL import Image

from lumagate.api.files import NOT_FOUND_BODY, files_router
from lumagate.media.store import MediaStore

BODY = bytes(range(256)) * 4  # 1000+ bytes with a recognisable pattern
MP4 = b"\x00\x00\x00\x18ftypmp42" + BODY


def _image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 10)).save(buffer, format=fmt)
    return buffer.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")


class Media:
    """The app, its store and the keys of the files the tests read."""

    def __init__(self, tmp_path: Path) -> None:
        self.outside = tmp_path / "secret.txt"
        self.outside.write_text("top secret")
        self.store = MediaStore(tmp_path / "media", "http://testserver")
        self.app = FastAPI()
        self.app.include_router(files_router(lambda request: self.store))
        self.video_key = "videos/task-1/video.mp4"
        (self.store.dir_for("videos/task-1") / "video.mp4").write_bytes(MP4)
        self.png_key = self.store.save_bytes(PNG, "uploads", ".png")
        self.jpg_key = self.store.save_bytes(JPEG, "uploads", ".jpg")
        self.blob_key = self.store.save_bytes(BODY[:1000], "blobs", ".bin")
        (self.store.root / "escape").symlink_to(tmp_path)

    def url(self, key: str) -> str:
        return self.store.public_url("media:" + key)


@pytest.fixture
def media(tmp_path: Path) -> Media:
    return Media(tmp_path)


@pytest.fixture
async def client(media: Media) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=media.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_get_whole_file(media: Media, client: httpx.AsyncClient) -> None:
    response = await client.get(media.url(media.video_key))
    assert response.status_code == 200
    assert response.content == MP4
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["content-length"] == str(len(MP4))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert "etag" in response.headers and "last-modified" in response.headers


@pytest.mark.parametrize(
    ("attr", "content_type", "data"),
    [
        ("png_key", "image/png", PNG),
        ("jpg_key", "image/jpeg", JPEG),
        ("video_key", "video/mp4", MP4),
    ],
)
async def test_content_types(
    media: Media, client: httpx.AsyncClient, attr: str, content_type: str, data: bytes
) -> None:
    response = await client.get(media.url(getattr(media, attr)))
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == data


async def test_content_addressed_files_are_cached_forever(
    media: Media, client: httpx.AsyncClient
) -> None:
    response = await client.get(media.url(media.png_key))
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_range_first_100_bytes(media: Media, client: httpx.AsyncClient) -> None:
    response = await client.get(media.url(media.blob_key), headers={"Range": "bytes=0-99"})
    assert response.status_code == 206
    assert response.headers["content-range"] == "bytes 0-99/1000"
    assert response.headers["content-length"] == "100"
    assert response.content == BODY[:100]


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=900-", 900, 1000),
        ("bytes=0-", 0, 1000),
        ("bytes=-100", 900, 1000),
        ("bytes=500-599", 500, 600),
        ("bytes=990-5000", 990, 1000),
    ],
)
async def test_other_ranges(
    media: Media, client: httpx.AsyncClient, header: str, start: int, end: int
) -> None:
    response = await client.get(media.url(media.blob_key), headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/1000"
    assert response.content == BODY[start:end]


async def test_unsatisfiable_range(media: Media, client: httpx.AsyncClient) -> None:
    response = await client.get(media.url(media.blob_key), headers={"Range": "bytes=5000-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */1000"


async def test_head(media: Media, client: httpx.AsyncClient) -> None:
    response = await client.head(media.url(media.video_key))
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(MP4))
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["accept-ranges"] == "bytes"

    ranged = await client.head(media.url(media.blob_key), headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206
    assert ranged.headers["content-range"] == "bytes 0-99/1000"
    assert ranged.content == b""


async def test_keys_with_odd_characters_round_trip(media: Media, client: httpx.AsyncClient) -> None:
    key = "videos/a b/x#?%.mp4"
    (media.store.dir_for("videos/a b") / "x#?%.mp4").write_bytes(MP4)
    response = await client.get(media.url(key))
    assert response.status_code == 200
    assert response.content == MP4


TRAVERSALS = [
    "/files/missing.mp4",
    "/files/",
    "/files/videos",
    "/files/videos/task-1",
    "/files/%2e%2e/secret.txt",
    "/files/%2E%2E/secret.txt",
    "/files/videos/..%2f..%2fsecret.txt",
    "/files/%2e%2e%2fsecret.txt",
    "/files//etc/passwd",
    "/files/%2Fetc%2Fpasswd",
    "/files/videos/..%5c..%5csecret.txt",
    "/files/videos/a%00b.mp4",
    "/files/escape/secret.txt",
    "/files/" + "a" * 5000,
    "/files/" + "/".join(["a" * 255] * 20),
]


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_missing_and_traversal_are_404(client: httpx.AsyncClient, path: str) -> None:
    for method in ("GET", "HEAD"):
        response = await client.request(method, path)
        assert response.status_code == 404, (method, path)
        if method == "GET":
            assert response.json() == NOT_FOUND_BODY


async def test_a_missing_file_is_a_404_in_chinese_for_zh(client: httpx.AsyncClient) -> None:
    response = await client.get("/files/videos/none.mp4", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404
    chinese = {**NOT_FOUND_BODY["error"], "message": "文件不存在"}
    assert response.json() == {"error": chinese}


async def _raw_asgi(app: FastAPI, path: str, method: str = "GET") -> tuple[int, bytes]:
    """Send one request with an exact, unnormalized ``path`` straight to the ASGI app."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    messages: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        messages.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return status, body


@pytest.mark.parametrize(
    "path",
    [
        "/files/../secret.txt",
        "/files/videos/../../secret.txt",
        "/files/./videos/task-1/video.mp4",
        "/files/videos/../videos/task-1/video.mp4",
        "/files/..\\secret.txt",
        "/files//" + "{root}/../secret.txt",
    ],
)
async def test_literal_traversal_is_404(media: Media, path: str) -> None:
    path = path.replace("{root}", str(media.store.root).lstrip("/"))
    status, body = await _raw_asgi(media.app, path)
    assert status == 404
    assert b"top secret" not in body
    assert json.loads(body) == {
        "error": {
            "message": "file not found",
            "type": "invalid_request_error",
            "code": "file_not_found",
        }
    }


async def test_custom_store_getter(media: Media) -> None:
    app = FastAPI()
    app.include_router(files_router(lambda request: media.store))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get(media.url(media.png_key))
    assert response.status_code == 200
    assert response.content == PNG


async def _raw_http(port: int, request_line: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{request_line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return data


@pytest.mark.slow
async def test_over_real_uvicorn_server(media: Media) -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # bound here: no free-port guess
    port = int(listener.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(media.app, log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        for _ in range(1500):  # up to 30 s
            if server.started or task.done():
                break
            await asyncio.sleep(0.02)
        assert server.started
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as http:
            whole = await http.get(f"/files/{media.video_key}")
            assert whole.status_code == 200 and whole.content == MP4
            part = await http.get(f"/files/{media.blob_key}", headers={"Range": "bytes=0-99"})
            assert part.status_code == 206
            assert part.headers["content-range"] == "bytes 0-99/1000"
            assert part.content == BODY[:100]
            tail = await http.get(f"/files/{media.blob_key}", headers={"Range": "bytes=950-"})
            assert tail.status_code == 206 and tail.content == BODY[950:1000]
            head = await http.head(f"/files/{media.video_key}")
            assert head.status_code == 200
            assert head.headers["content-length"] == str(len(MP4))
        for target in ("/files/../secret.txt", "/files/%2e%2e/secret.txt", "/files/a%00b"):
            raw = await _raw_http(port, f"GET {target} HTTP/1.1")
            assert raw.startswith((b"HTTP/1.1 404", b"HTTP/1.1 400")), (target, raw[:80])
            assert b"top secret" not in raw
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        listener.close()
