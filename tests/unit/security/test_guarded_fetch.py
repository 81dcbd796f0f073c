"""GuardedFetcher: refusal before connecting, every redirect hop checked, bounded, tenant-safe.

Names are resolved by a resolver hook and requests are answered by a mock transport under the
real pinning transport, so nothing here opens a socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from lumagate.security.guarded_fetch import FetchFailed, GuardedFetcher, TooLarge, UrlRefused
from lumagate.security.ssrf import SsrfGuard

PUBLIC = "93.184.215.14"
NAMES = {
    "cdn.example": [PUBLIC],
    "internal.example": ["10.1.2.3"],
    "loopback.example": ["127.0.0.1"],
    "mixed.example": [PUBLIC, "192.168.1.1"],
}


async def _resolver(host: str, port: int) -> list[str]:
    if host not in NAMES:
        raise OSError("Name or service not known")
    return NAMES[host]


def _fetcher(
    handler: httpx.MockTransport | None = None, allow: tuple[str, ...] = (), **limits: float
) -> tuple[GuardedFetcher, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"body")

    transport = handler or httpx.MockTransport(record)
    guard = SsrfGuard(allow, resolver=_resolver)
    return GuardedFetcher(guard, transport=transport, **limits), seen  # type: ignore[arg-type]


FORBIDDEN = [
    "http://127.0.0.1/a.png",
    "http://[::1]/a.png",
    "http://127.0.0.2/a.png",
    "http://0x7f000001/a.png",
    "http://2130706433/a.png",
    "http://[::ffff:127.0.0.1]/a.png",
    "http://localhost/a.png",
    "http://localhost./a.png",
    "http://api.localhost/a.png",
    "http://10.0.0.1/a.png",
    "http://192.168.1.1/a.png",
    "http://169.254.169.254/latest/meta-data/",
    "http://internal.example/a.png",
    "http://loopback.example/a.png",
    "http://mixed.example/a.png",
    "file:///etc/passwd",
    "gopher://127.0.0.1:70/_x",
    "ftp://cdn.example/a.png",
    "http:///a.png",
    "http://[::1/a.png",
]


@pytest.mark.parametrize("url", FORBIDDEN)
async def test_forbidden_targets_are_refused_before_connecting(url: str) -> None:
    fetcher, seen = _fetcher()
    with pytest.raises(UrlRefused) as precheck:
        await fetcher.precheck(url)
    with pytest.raises(UrlRefused) as fetch:
        await fetcher.fetch(url)
    assert seen == []
    for reason in (precheck.value.reason, fetch.value.reason):
        for internal in ("10.1.2.3", "192.168.1.1", "127.0.0.1", "resolves"):
            assert internal not in reason or internal in url  # what DNS said stays inside


async def test_a_public_name_is_fetched_from_its_checked_address() -> None:
    fetcher, seen = _fetcher()
    await fetcher.precheck("https://cdn.example/a.png")
    fetched = await fetcher.fetch("https://cdn.example/a.png")
    assert fetched.data == b"body" and fetched.host == "cdn.example"
    assert [str(r.url) for r in seen] == [f"https://{PUBLIC}/a.png"]
    assert seen[0].headers["host"] == "cdn.example"
    assert seen[0].extensions["sni_hostname"] == "cdn.example"


async def test_an_unresolvable_name_passes_the_precheck_and_fails_the_fetch() -> None:
    fetcher, seen = _fetcher()
    await fetcher.precheck("http://gone.example/a.png")
    with pytest.raises(FetchFailed, match=r"^gone.example does not resolve$"):
        await fetcher.fetch("http://gone.example/a.png")
    assert seen == []


async def test_the_allow_list_admits_an_internal_host() -> None:
    fetcher, seen = _fetcher(allow=("internal.example",))
    assert (await fetcher.fetch("http://internal.example/a.png")).data == b"body"
    assert str(seen[0].url) == "http://10.1.2.3/a.png"


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1/x",
        "http://internal.example/x",
        "http://169.254.169.254/",
        "//localhost/x",
        "file:///etc/passwd",
        "gopher://cdn.example/x",
    ],
)
async def test_every_redirect_hop_is_checked(location: str) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"location": location})

    fetcher, _ = _fetcher(httpx.MockTransport(handler))
    with pytest.raises(UrlRefused) as refused:
        await fetcher.fetch("http://cdn.example/start")
    assert refused.value.reason == "cdn.example redirected to a URL that is not allowed"
    assert seen == [f"http://{PUBLIC}/start"]  # the forbidden hop was never requested


async def test_a_relative_redirect_is_resolved_against_the_name_not_the_address() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/start":
            return httpx.Response(301, headers={"location": "/final.png"})
        return httpx.Response(200, content=b"final")

    fetcher, _ = _fetcher(httpx.MockTransport(handler))
    assert (await fetcher.fetch("http://cdn.example/start")).data == b"final"
    assert [r.headers["host"] for r in seen] == ["cdn.example", "cdn.example"]


async def test_too_many_redirects() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "/again"})

    fetcher, _ = _fetcher(httpx.MockTransport(handler), max_redirects=2)
    with pytest.raises(FetchFailed, match=r"^more than 2 redirects from cdn.example$"):
        await fetcher.fetch("http://cdn.example/a")


async def test_the_size_cap_holds_while_streaming() -> None:
    chunks_sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        for _ in range(1000):
            chunks_sent += 1
            yield b"x" * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body())

    fetcher, _ = _fetcher(httpx.MockTransport(handler), max_bytes=10 * 1024)
    with pytest.raises(FetchFailed, match=r"^the file at cdn.example is larger than 10 KB$"):
        await fetcher.fetch("http://cdn.example/big")
    assert chunks_sent < 20


async def test_a_declared_length_over_the_cap_is_refused_unread() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": "99999999"}, content=b"")

    fetcher, _ = _fetcher(httpx.MockTransport(handler), max_bytes=1000)
    with pytest.raises(FetchFailed, match="larger than 1000 bytes"):
        await fetcher.fetch("http://cdn.example/big")


async def test_the_timeout_covers_the_whole_fetch() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(10)
        return httpx.Response(200)

    fetcher, _ = _fetcher(httpx.MockTransport(handler), timeout=0.2)
    with pytest.raises(FetchFailed, match=r"^timed out after 0.2 s$"):
        await fetcher.fetch("http://cdn.example/slow")


async def test_failures_name_the_host_and_status_only() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/missing":
            return httpx.Response(404)
        raise httpx.ConnectError(f"[Errno 111] Connection refused to {request.url.host}")

    fetcher, _ = _fetcher(httpx.MockTransport(handler))
    with pytest.raises(FetchFailed, match=r"^HTTP 404 from cdn.example$"):
        await fetcher.fetch("http://cdn.example/missing")
    with pytest.raises(FetchFailed) as down:
        await fetcher.fetch("http://cdn.example/down")
    assert down.value.reason == "could not connect to cdn.example"


async def _drain(fetcher: GuardedFetcher, url: str) -> tuple[bytes, int, str]:
    """Read ``url`` through :meth:`GuardedFetcher.stream`: the body, its chunk count, its type."""
    body, count = bytearray(), 0
    async with fetcher.stream(url) as opened:
        async for chunk in opened.chunks:
            body.extend(chunk)
            count += 1
        return bytes(body), count, opened.content_type


async def test_a_stream_follows_checked_redirects_and_yields_the_body_in_chunks() -> None:
    async def body() -> AsyncIterator[bytes]:
        for index in range(50):
            yield bytes([index]) * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(302, headers={"location": "/video.mp4"})
        assert request.headers["accept"] == "*/*"
        return httpx.Response(200, headers={"content-type": "video/mp4"}, content=body())

    fetcher, _ = _fetcher(httpx.MockTransport(handler))
    data, chunks, content_type = await _drain(fetcher, "http://cdn.example/old")
    assert data == b"".join(bytes([i]) * 1024 for i in range(50))
    assert chunks > 1 and content_type == "video/mp4"


async def test_a_stream_is_refused_before_connecting_and_bounded_while_read() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 5000)

    fetcher, seen = _fetcher(httpx.MockTransport(handler), max_bytes=1000)
    with pytest.raises(UrlRefused):
        await _drain(fetcher, "http://internal.example/v.mp4")
    assert seen == []
    with pytest.raises(FetchFailed, match="larger than 1000 bytes"):
        await _drain(fetcher, "http://cdn.example/v.mp4")


async def test_a_stream_error_carries_the_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, content=b"Request has expired")

    fetcher, _ = _fetcher(httpx.MockTransport(handler))
    with pytest.raises(FetchFailed) as expired:
        await _drain(fetcher, "http://cdn.example/v.mp4")
    assert expired.value.status == 403 and expired.value.reason == "HTTP 403 from cdn.example"


async def test_over_the_cap_is_too_large_whether_declared_or_streamed() -> None:
    """A distinct failure: callers that retry transient ones give up on it at once."""

    async def undeclared() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"x" * 1000

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/declared":
            return httpx.Response(200, content=b"x" * 5000)  # with its Content-Length
        return httpx.Response(200, content=undeclared())

    fetcher, _ = _fetcher(httpx.MockTransport(handler), max_bytes=1000)
    for path in ("/declared", "/streamed"):
        with pytest.raises(TooLarge, match="larger than 1000 bytes"):
            await fetcher.fetch(f"http://cdn.example{path}")
        with pytest.raises(TooLarge, match="larger than 1000 bytes"):
            async with fetcher.stream(f"http://cdn.example{path}") as opened:
                async for _ in opened.chunks:
                    pass
    ok = FetchFailed("HTTP 503 from cdn.example", status=503)
    assert not isinstance(ok, TooLarge)
