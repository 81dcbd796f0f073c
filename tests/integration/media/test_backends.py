"""One suite for both media backends: the data dir ("local") and S3 over loopback ("s3").

The S3 backend talks to moto's S3 server (tests/support/s3.py), started by the tests on
127.0.0.1; every test gets a bucket of its own. The same tests run on the local backend, so
the two are held to the same behaviour: writes, whole and ranged reads, stat, listing with
modification times, deletion, key confinement, and ``/files`` serving (ranges, HEAD, 404s,
and the presigned redirect where the backend has one).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from lumagate.api.files import NOT_FOUND_BODY, files_router
from lumagate.domain.request import media_ref
from lumagate.media.backend import MediaBackend
from lumagate.media.local import LocalBackend
from lumagate.media.s3 import S3Backend, parse_media_url
from lumagate.media.store import MediaNotFound, MediaStore, MediaUnavailable
from tests.support.ports import free_port
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server, s3_server

__all__ = ["s3_server"]

BODY = bytes(range(256)) * 4
MP4 = b"\x00\x00\x00\x18ftypmp42" + BODY
BAD_KEYS = ["", "/etc/passwd", "../secret.txt", "videos/../../x", "a//b", "a\\b", "a\x00b", "."]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> MediaBackend:
    if request.param == "local":
        return LocalBackend(tmp_path / "media")
    server: S3Server = request.getfixturevalue("s3_server")
    return S3Backend(
        server.new_bucket(),
        "lumagate/media",
        endpoint_url=server.endpoint,
        region=REGION,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
    )


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


# -- the backend ------------------------------------------------------------------------------
async def test_put_stream_then_read_stat_and_range(backend: MediaBackend) -> None:
    key = "videos/abc/video.mp4"
    await backend.put_stream(key, _chunks(MP4[:10], MP4[10:500], MP4[500:]), "video/mp4")
    assert await backend.read_bytes(key) == MP4
    found = await backend.stat(key)
    assert found is not None
    assert (found.key, found.size, found.content_type) == (key, len(MP4), "video/mp4")
    assert abs(found.modified - datetime.now(UTC)) < timedelta(minutes=1)
    assert await _collect(backend.read_range(key, 100, 200)) == MP4[100:200]
    assert await _collect(backend.read_range(key, len(MP4) - 7, len(MP4))) == MP4[-7:]


async def test_put_bytes_replaces_and_put_file_consumes(
    backend: MediaBackend, tmp_path: Path
) -> None:
    await backend.put_bytes("a/b.png", b"first", "image/png")
    await backend.put_bytes("a/b.png", PNG, "image/png")
    assert await backend.read_bytes("a/b.png") == PNG
    source = tmp_path / "render.mp4"
    source.write_bytes(MP4)
    await backend.put_file("videos/x/video.mp4", source, "video/mp4")
    assert await backend.read_bytes("videos/x/video.mp4") == MP4
    assert not source.exists()


async def test_missing_keys(backend: MediaBackend) -> None:
    assert await backend.stat("nothing/here.mp4") is None
    with pytest.raises(MediaNotFound):
        await backend.read_bytes("nothing/here.mp4")
    assert await backend.delete("nothing/here.mp4") is False


async def test_delete(backend: MediaBackend) -> None:
    await backend.put_bytes("uploads/aa/one.png", PNG, "image/png")
    assert await backend.delete("uploads/aa/one.png") is True
    assert await backend.stat("uploads/aa/one.png") is None
    assert await backend.delete("uploads/aa/one.png") is False


async def test_list_by_folder_with_times(backend: MediaBackend) -> None:
    for key in ("videos/a/video.mp4", "videos/a/thumbnail.jpg", "videos/b/video.mp4"):
        await backend.put_bytes(key, MP4, "video/mp4")
    await backend.put_bytes("uploads/cc/x.png", PNG, "image/png")
    listed = [item async for item in backend.list("videos")]
    assert sorted(item.key for item in listed) == [
        "videos/a/thumbnail.jpg",
        "videos/a/video.mp4",
        "videos/b/video.mp4",
    ]
    assert {item.size for item in listed} == {len(MP4)}
    assert all(abs(item.modified - datetime.now(UTC)) < timedelta(minutes=1) for item in listed)
    assert [item.key async for item in backend.list("videos/b/")] == ["videos/b/video.mp4"]
    assert len([item async for item in backend.list("")]) == 4
    assert [item async for item in backend.list("nothing")] == []


@pytest.mark.parametrize("key", BAD_KEYS, ids=[f"bad{i}" for i in range(len(BAD_KEYS))])
async def test_keys_are_confined(backend: MediaBackend, key: str) -> None:
    with pytest.raises(MediaNotFound):
        await backend.put_bytes(key, b"x", "text/plain")
    with pytest.raises(MediaNotFound):
        await backend.stat(key)
    with pytest.raises(MediaNotFound):
        await backend.read_bytes(key)
    with pytest.raises(MediaNotFound):
        await backend.delete(key)
    with pytest.raises(MediaNotFound):
        await backend.put_stream(key, _chunks(b"x"), "text/plain")
    with pytest.raises(MediaNotFound):
        await _collect(backend.read_range(key, 0, 1))
    if key:  # "" lists everything
        with pytest.raises(MediaNotFound):
            [item async for item in backend.list(key)]


async def test_local_symlink_out_is_refused(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "media")
    await backend.put_bytes("inside.txt", b"ok", "text/plain")
    (tmp_path / "secret.txt").write_text("top secret")
    (backend.root / "escape").symlink_to(tmp_path)
    with pytest.raises(MediaNotFound):
        await backend.read_bytes("escape/secret.txt")
    assert [item.key async for item in backend.list("")] == ["inside.txt"]


def test_media_url_parsing() -> None:
    assert parse_media_url("s3://bucket/some/prefix/") == ("bucket", "some/prefix")
    assert parse_media_url("s3://bucket") == ("bucket", "")
    for bad in ("http://bucket/x", "s3:///x", "s3://bucket/../x"):
        with pytest.raises(ValueError):
            parse_media_url(bad)


# -- the media store over the backend ---------------------------------------------------------
async def test_content_addressed_saves_and_reads(backend: MediaBackend) -> None:
    store = MediaStore(backend, "http://testserver")
    key = await store.asave_bytes(PNG, "uploads", ".png")
    assert key == MediaStore.content_key(PNG, "uploads", ".png")
    assert await store.asave_bytes(PNG, "uploads", ".png") == key
    assert await store.read(media_ref(key)) == (PNG, "image/png")
    assert await store.exists(key)
    assert not await store.exists("../x")
    with pytest.raises(MediaNotFound):
        await store.read("media:uploads/none.png")


# -- /files ------------------------------------------------------------------------------------
def _app(store: MediaStore) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(files_router(lambda request: store))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def _stored(backend: MediaBackend, **options: object) -> tuple[MediaStore, str]:
    store = MediaStore(backend, "http://testserver", **options)  # type: ignore[arg-type]
    key = "videos/f1/video.mp4"
    await backend.put_bytes(key, MP4, "video/mp4")
    return store, key


async def test_files_serves_whole_and_ranges(backend: MediaBackend) -> None:
    store, key = await _stored(backend)
    url = store.public_url(media_ref(key))
    async with _app(store) as http:
        whole = await http.get(url)
        assert whole.status_code == 200
        assert whole.content == MP4
        assert whole.headers["content-type"] == "video/mp4"
        assert whole.headers["accept-ranges"] == "bytes"
        assert whole.headers["content-length"] == str(len(MP4))
        size = len(MP4)
        for header, start, end in [
            ("bytes=0-99", 0, 100),
            ("bytes=900-", 900, size),
            ("bytes=-100", size - 100, size),
            ("bytes=990-50000", 990, size),
        ]:
            part = await http.get(url, headers={"Range": header})
            assert part.status_code == 206, header
            assert part.headers["content-range"] == f"bytes {start}-{end - 1}/{size}"
            assert part.headers["content-length"] == str(end - start)
            assert part.content == MP4[start:end]
        past = await http.get(url, headers={"Range": f"bytes={size + 10}-"})
        assert past.status_code == 416
        assert past.headers["content-range"] == f"bytes */{size}"
        head = await http.head(url, headers={"Range": "bytes=0-9"})
        assert head.status_code == 206
        assert head.headers["content-length"] == "10"
        assert head.content == b""


@pytest.mark.parametrize(
    "path",
    ["/files/videos/none/video.mp4", "/files/..%2Fsecret.txt", "/files/videos//x", "/files/"],
    ids=["missing", "dotdot", "empty-segment", "no-key"],
)
async def test_files_404(backend: MediaBackend, path: str) -> None:
    store, _ = await _stored(backend)
    async with _app(store) as http:
        response = await http.get(path)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND_BODY


async def test_files_redirect_mode(backend: MediaBackend) -> None:
    """Redirect mode sends S3 media to a presigned URL that serves the bytes (ranges too);
    the data dir has no such URL and serves the file itself."""
    store, key = await _stored(backend, serve_by_redirect=True, presign_seconds=60)
    url = store.public_url(media_ref(key))
    async with _app(store) as http:
        response = await http.get(url)
        missing = await http.get("/files/videos/none/video.mp4")
    assert missing.status_code == 404
    if isinstance(backend, LocalBackend):
        assert response.status_code == 200
        assert response.content == MP4
        return
    assert response.status_code == 307
    location = response.headers["location"]
    assert "X-Amz-Signature=" in location
    async with httpx.AsyncClient() as direct:
        assert (await direct.get(location)).content == MP4
        part = await direct.get(location, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == MP4[10:20]


async def test_unreachable_store_is_503_not_500() -> None:
    """A store nobody answers: /files says 503 with Retry-After, reads raise MediaUnavailable."""
    dead = S3Backend(
        "bucket",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region=REGION,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
    )
    with pytest.raises(MediaUnavailable):
        await dead.stat("videos/x/video.mp4")
    async with _app(MediaStore(dead, "http://testserver")) as http:
        response = await http.get("/files/videos/x/video.mp4")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"]["code"] == "media_unavailable"
