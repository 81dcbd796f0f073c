"""MediaStore: key confinement, content-addressed writes, public URLs and reads (local/remote)."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from lumagate.media.images import InvalidImage
from lumagate.media.store import (
    MediaFetchError,
    MediaNotFound,
    MediaStore,
    check_key,
    content_type_for,
    is_content_addressed,
)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 128, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media", "http://gw.example/")


# -- confinement ----------------------------------------------------------------------------


def test_path_for_inside_root(store: MediaStore) -> None:
    path = store.path_for("videos/t1/video.mp4")
    assert path == store.root / "videos" / "t1" / "video.mp4"
    assert path.is_relative_to(store.root)


@pytest.mark.parametrize(
    "key",
    [
        "",
        ".",
        "..",
        "../secret.txt",
        "uploads/../../secret.txt",
        "uploads/..",
        "/etc/passwd",
        "//etc/passwd",
        "uploads\\..\\..\\secret.txt",
        "uploads/a\x00b.png",
        "uploads/a\nb.png",
        "uploads//a.png",
        "uploads/./a.png",
        "uploads/",
        "a" * 1025,
    ],
)
def test_path_for_rejects_bad_keys(store: MediaStore, key: str) -> None:
    with pytest.raises(MediaNotFound):
        store.path_for(key)
    with pytest.raises(ValueError):
        store.path_for(key)


def test_path_for_rejects_symlink_escape(tmp_path: Path, store: MediaStore) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    store.root.mkdir(parents=True)
    (store.root / "link").symlink_to(outside, target_is_directory=True)
    (store.root / "file-link").symlink_to(outside / "secret.txt")
    with pytest.raises(MediaNotFound, match="outside"):
        store.path_for("link/secret.txt")
    with pytest.raises(MediaNotFound, match="outside"):
        store.path_for("file-link")


def test_path_for_rejects_symlink_loop(store: MediaStore) -> None:
    store.root.mkdir(parents=True)
    (store.root / "loop").symlink_to(store.root / "loop")
    with pytest.raises(MediaNotFound):
        store.path_for("loop/x")


def test_symlink_inside_root_is_allowed(store: MediaStore) -> None:
    target = store.dir_for("videos/t1") / "video.mp4"
    target.write_bytes(b"x")
    (store.root / "alias.mp4").symlink_to(target)
    assert store.path_for("alias.mp4") == target


def test_root_itself_is_not_a_key(store: MediaStore) -> None:
    with pytest.raises(MediaNotFound):
        store.path_for("uploads/..")


def test_dir_for_and_key_for(store: MediaStore, tmp_path: Path) -> None:
    directory = store.dir_for("videos/task-1")
    assert directory.is_dir()
    assert store.key_for(directory / "video.mp4") == "videos/task-1/video.mp4"
    assert store.key_for(directory) == "videos/task-1"
    with pytest.raises(MediaNotFound):
        store.key_for(tmp_path / "elsewhere.mp4")
    with pytest.raises(MediaNotFound):
        store.key_for(store.root)
    with pytest.raises(MediaNotFound):
        store.dir_for("../escape")


def test_check_key_returns_key() -> None:
    assert check_key("a/b.c") == "a/b.c"


# -- writing --------------------------------------------------------------------------------


def test_save_bytes_is_content_addressed_and_idempotent(store: MediaStore) -> None:
    key = store.save_bytes(PNG, "uploads", ".png")
    parts = key.split("/")
    assert parts[0] == "uploads" and len(parts) == 3
    assert parts[2].endswith(".png") and parts[2][:2] == parts[1]
    assert len(parts[2]) == 64 + len(".png")
    assert is_content_addressed(key)
    path = store.path_for(key)
    assert path.read_bytes() == PNG
    assert path.stat().st_mode & 0o777 == 0o644
    mtime = path.stat().st_mtime_ns
    assert store.save_bytes(PNG, "uploads", "png") == key
    assert path.stat().st_mtime_ns == mtime
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left


def test_save_bytes_repairs_truncated_file(store: MediaStore) -> None:
    key = store.save_bytes(PNG, "uploads", ".png")
    store.path_for(key).write_bytes(PNG[:10])
    assert store.save_bytes(PNG, "uploads", ".png") == key
    assert store.path_for(key).read_bytes() == PNG


def test_save_bytes_nested_folder_and_no_suffix(store: MediaStore) -> None:
    key = store.save_bytes(b"abc", "frames/t1", "")
    assert key.startswith("frames/t1/")
    assert store.path_for(key).read_bytes() == b"abc"


@pytest.mark.parametrize("suffix", ["../x", ".p/ng", ".", ".verylongsuffix"])
def test_save_bytes_rejects_bad_suffix(store: MediaStore, suffix: str) -> None:
    with pytest.raises(ValueError):
        store.save_bytes(b"abc", "uploads", suffix)


@pytest.mark.parametrize("folder", ["../up", "/abs", "", "a/../b"])
def test_save_bytes_rejects_bad_folder(store: MediaStore, folder: str) -> None:
    with pytest.raises(MediaNotFound):
        store.save_bytes(b"abc", folder, ".bin")


async def test_asave_bytes(store: MediaStore) -> None:
    key = await store.asave_bytes(PNG, "uploads", ".png")
    assert key == store.save_bytes(PNG, "uploads", ".png")


def test_is_content_addressed() -> None:
    digest = "ab" + "0" * 62
    assert is_content_addressed(f"uploads/ab/{digest}.png")
    assert is_content_addressed(f"uploads/ab/{digest}")
    assert not is_content_addressed(f"uploads/cd/{digest}.png")
    assert not is_content_addressed(f"ab/{digest}.png")
    assert not is_content_addressed("videos/t1/video.mp4")


# -- public URLs ----------------------------------------------------------------------------


def test_public_url(store: MediaStore) -> None:
    assert store.public_url("media:uploads/ab/x.png") == "http://gw.example/files/uploads/ab/x.png"
    assert (
        store.public_url("media:videos/a b/x#?%.mp4")
        == "http://gw.example/files/videos/a%20b/x%23%3F%25.mp4"
    )
    assert store.public_url("https://cdn.example/v.mp4?sig=1") == "https://cdn.example/v.mp4?sig=1"
    assert store.public_url("HTTP://cdn.example/v.mp4") == "HTTP://cdn.example/v.mp4"
    with pytest.raises(ValueError):
        store.public_url("media:../etc/passwd")
    with pytest.raises(ValueError):
        store.public_url("ftp://x/y")


# -- reading local --------------------------------------------------------------------------


def test_content_type_for() -> None:
    assert content_type_for("a.bin", PNG[:16]) == "image/png"
    assert content_type_for("a.png", b"not a png") == "image/png"
    assert content_type_for("v.MP4") == "video/mp4"
    assert content_type_for("a.jpg") == "image/jpeg"
    assert content_type_for("a.unknown") == "application/octet-stream"


async def test_read_local(store: MediaStore) -> None:
    key = store.save_bytes(PNG, "uploads", ".bin")
    assert await store.read("media:" + key) == (PNG, "image/png")
    video = store.dir_for("videos/t1") / "video.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42rest")
    assert await store.read("media:videos/t1/video.mp4") == (
        b"\x00\x00\x00\x18ftypmp42rest",
        "video/mp4",
    )


@pytest.mark.parametrize(
    "ref", ["media:uploads/missing.png", "media:videos", "media:../x", "media:", "ftp://x/y", "x"]
)
async def test_read_local_missing_or_invalid(store: MediaStore, ref: str) -> None:
    store.dir_for("videos")
    with pytest.raises(MediaNotFound):
        await store.read(ref)


# -- reading remote -------------------------------------------------------------------------


def _store_with(
    tmp_path: Path,
    transport: httpx.MockTransport,
    *,
    max_fetch_bytes: int = 20 * 1024 * 1024,
    fetch_timeout: float = 30.0,
) -> MediaStore:
    return MediaStore(
        tmp_path / "media",
        "http://gw.example",
        http_client=httpx.AsyncClient(transport=transport),
        max_fetch_bytes=max_fetch_bytes,
        fetch_timeout=fetch_timeout,
    )


async def test_read_remote(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/a.png":
            return httpx.Response(200, content=PNG, headers={"content-type": "text/plain"})
        return httpx.Response(200, content=b"{}", headers={"content-type": "application/json; x"})

    store = _store_with(tmp_path, httpx.MockTransport(handler))
    assert await store.read("https://cdn.example/a.png") == (PNG, "image/png")
    assert await store.read("https://cdn.example/a.json") == (b"{}", "application/json")


@pytest.mark.parametrize(("hops", "ok"), [(0, True), (3, True), (4, False)])
async def test_read_remote_redirects(tmp_path: Path, hops: int, ok: bool) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        left = int(request.url.params.get("left", str(hops)))
        if left > 0:
            return httpx.Response(302, headers={"location": f"/img?left={left - 1}"})
        return httpx.Response(200, content=PNG)

    store = _store_with(tmp_path, httpx.MockTransport(handler))
    if ok:
        assert (await store.read("http://cdn.example/img"))[0] == PNG
    else:
        with pytest.raises(MediaFetchError, match="more than 3 redirects"):
            await store.read("http://cdn.example/img")


async def test_read_remote_redirect_to_other_scheme(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "ftp://cdn.example/x"})

    store = _store_with(tmp_path, httpx.MockTransport(handler))
    with pytest.raises(MediaFetchError, match="non-http"):
        await store.read("http://cdn.example/img")


async def test_read_remote_errors(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/missing":
            return httpx.Response(404)
        if request.url.path == "/declared-big":
            return httpx.Response(200, headers={"content-length": "999999"}, content=b"")
        raise httpx.ConnectError("connection refused", request=request)

    store = _store_with(tmp_path, httpx.MockTransport(handler), max_fetch_bytes=1000)
    with pytest.raises(MediaFetchError, match="HTTP 404"):
        await store.read("http://cdn.example/missing")
    with pytest.raises(MediaFetchError, match="larger than"):
        await store.read("http://cdn.example/declared-big")
    with pytest.raises(MediaFetchError, match="connection refused"):
        await store.read("http://cdn.example/down")
    with pytest.raises(MediaFetchError, match="failed"):
        await store.read("http://[::1/broken")


async def test_read_remote_size_enforced_while_streaming(tmp_path: Path) -> None:
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(100):
            sent += 1
            yield b"x" * 100

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body())  # no content-length: chunked

    store = _store_with(tmp_path, httpx.MockTransport(handler), max_fetch_bytes=1000)
    with pytest.raises(MediaFetchError, match="larger than 1000 bytes"):
        await store.read("http://cdn.example/stream")
    assert sent < 100


async def test_read_remote_timeout(tmp_path: Path) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, content=PNG)

    store = _store_with(tmp_path, httpx.MockTransport(handler), fetch_timeout=0.1)
    with pytest.raises(MediaFetchError, match="timed out"):
        await store.read("http://cdn.example/slow")


# -- client image inputs --------------------------------------------------------------------


async def test_store_image_input(store: MediaStore) -> None:
    assert await store.store_image_input(None, 1024) is None
    assert await store.store_image_input("", 1024) is None
    url = "https://cdn.example/a.png"
    assert await store.store_image_input(url, 1024) == url
    uri = "data:image/jpeg;base64," + base64.b64encode(PNG).decode()
    ref = await store.store_image_input(uri, 1024)
    assert ref is not None and ref.startswith("media:uploads/") and ref.endswith(".png")
    assert await store.read(ref) == (PNG, "image/png")
    with pytest.raises(InvalidImage):
        await store.store_image_input("file:///etc/passwd", 1024)
    with pytest.raises(InvalidImage, match="larger than"):
        await store.store_image_input(uri, 10)
    # Exactly one file was written, and no temporary file was left behind.
    assert [p for p in store.root.rglob("*") if p.is_file()] == [store.path_for(ref[6:])]
