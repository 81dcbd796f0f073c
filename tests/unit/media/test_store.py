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
    MediaRefused,
    MediaStore,
    check_key,
    content_type_for,
    is_content_addressed,
)
from lumagate.security.guarded_fetch import GuardedFetcher
from lumagate.security.ssrf import SsrfGuard


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
    assert path.stat().st_mode & 0o777 == 0o600  # owner only, whatever the umask
    assert path.parent.stat().st_mode & 0o777 == 0o700
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


PUBLIC_ADDRESS = "93.184.215.14"  # never connected to: the transport below is a mock


async def _public_resolver(host: str, port: int) -> list[str]:
    return [PUBLIC_ADDRESS]


def _store_with(
    tmp_path: Path,
    transport: httpx.MockTransport,
    *,
    max_fetch_bytes: int = 20 * 1024 * 1024,
    fetch_timeout: float = 30.0,
) -> MediaStore:
    fetcher = GuardedFetcher(
        SsrfGuard(resolver=_public_resolver),
        max_bytes=max_fetch_bytes,
        timeout=fetch_timeout,
        transport=transport,
    )
    return MediaStore(tmp_path / "media", "http://gw.example", fetcher)


async def test_read_remote(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == PUBLIC_ADDRESS  # pinned to the checked address
        assert request.headers["host"] == "cdn.example"
        if request.url.path == "/a.png":
            return httpx.Response(200, content=PNG, headers={"content-type": "text/plain"})
        return httpx.Response(200, content=b"{}", headers={"content-type": "image/png"})

    store = _store_with(tmp_path, httpx.MockTransport(handler))
    assert await store.read("https://cdn.example/a.png") == (PNG, "image/png")
    with pytest.raises(MediaFetchError, match="not a PNG, JPEG, WebP or GIF"):
        await store.read("https://cdn.example/a.json")  # whatever its content type says


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
        with pytest.raises(MediaFetchError, match=r"more than 3 redirects from cdn\.example"):
            await store.read("http://cdn.example/img")


@pytest.mark.parametrize(
    "location", ["ftp://cdn.example/x", "http://127.0.0.1:9/x", "http://[::1]/", "file:///x"]
)
async def test_read_remote_redirect_to_a_forbidden_target(tmp_path: Path, location: str) -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(302, headers={"location": location})

    store = _store_with(tmp_path, httpx.MockTransport(handler))
    with pytest.raises(MediaRefused) as caught:
        await store.read("http://cdn.example/img")
    assert str(caught.value.describe("image_url")) == (
        "the image at image_url is not allowed: cdn.example redirected to a URL that is not allowed"
    )
    assert len(asked) == 1  # the forbidden hop was never requested


async def test_read_remote_errors(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/missing":
            return httpx.Response(404)
        if request.url.path == "/declared-big":
            return httpx.Response(200, headers={"content-length": "999999"}, content=b"")
        raise httpx.ConnectError("connection refused by 10.1.2.3", request=request)

    store = _store_with(tmp_path, httpx.MockTransport(handler), max_fetch_bytes=1000)
    with pytest.raises(MediaFetchError) as missing:
        await store.read("http://cdn.example/missing")
    assert str(missing.value.describe("image_url")) == (
        "the image at image_url could not be fetched: HTTP 404 from cdn.example"
    )
    with pytest.raises(MediaFetchError, match="larger than"):
        await store.read("http://cdn.example/declared-big")
    with pytest.raises(MediaFetchError) as down:
        await store.read("http://cdn.example/down")
    assert down.value.reason == "could not connect to cdn.example"  # no socket's own words
    with pytest.raises(MediaRefused, match="malformed"):
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


async def test_store_image_input(tmp_path: Path) -> None:
    store = _store_with(tmp_path, httpx.MockTransport(lambda r: httpx.Response(200, content=PNG)))
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
    with pytest.raises(MediaRefused, match=r"127\.0\.0\.1 is not a public address"):
        await store.store_image_input("http://127.0.0.1/a.png", 1024)
    # Exactly one file was written, and no temporary file was left behind.
    assert [p for p in store.root.rglob("*") if p.is_file()] == [store.path_for(ref[6:])]


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_put_stream_writes_the_chunks_privately_and_replaces(store: MediaStore) -> None:
    key = "mirrors/abc/video.mp4"
    await store.put_stream(key, _chunks(b"first ", b"copy"), "video/mp4")
    path = store.path_for(key)
    assert path.read_bytes() == b"first copy"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    await store.put_stream(key, _chunks(b"second"), "video/mp4")
    assert path.read_bytes() == b"second"
    assert await store.read("media:" + key) == (b"second", "video/mp4")
    assert [p.name for p in path.parent.iterdir()] == ["video.mp4"]


async def test_put_stream_cut_short_leaves_the_old_file_and_no_partial_one(
    store: MediaStore,
) -> None:
    key = "mirrors/abc/thumbnail.jpg"
    await store.put_stream(key, _chunks(b"kept"), "image/jpeg")

    async def broken() -> AsyncIterator[bytes]:
        yield b"partial"
        raise ConnectionError("upstream went away")

    with pytest.raises(ConnectionError):
        await store.put_stream(key, broken(), "image/jpeg")
    path = store.path_for(key)
    assert path.read_bytes() == b"kept"
    assert [p.name for p in path.parent.iterdir()] == ["thumbnail.jpg"]


@pytest.mark.parametrize("key", ["../escape.mp4", "/abs.mp4", "a//b.mp4"], ids=str)
async def test_put_stream_refuses_keys_outside_the_store(store: MediaStore, key: str) -> None:
    with pytest.raises(MediaNotFound):
        await store.put_stream(key, _chunks(b"x"), "video/mp4")
