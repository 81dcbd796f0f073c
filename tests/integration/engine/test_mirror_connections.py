"""Media copies keep connections alive through the SSRF guard, on real loopback sockets.

Two servers count the TCP connections they accept: the file server of an allowed host, and a
canary on another loopback address no link may reach. Two copies from one allowed host share
one connection; a link to a refused address is refused before any connection, even while a
pooled connection to an allowed host is open; a pooled connection only carries requests for
the name and checked address it was opened for.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lumagate.domain.accounts import AccountHandle
from lumagate.engine.mirroring import MirrorFetchers
from lumagate.security.guarded_fetch import GuardedFetcher, UrlRefused
from lumagate.security.ssrf import SsrfGuard
from lumagate.settings import Settings

BODY = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40


class CountingServer(ThreadingHTTPServer):
    """An HTTP/1.1 (keep-alive) file server on ``host`` that counts connections and GETs."""

    daemon_threads = True

    def __init__(self, host: str, port: int = 0) -> None:
        self.connections = 0
        self.hits: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.hits[self.path] += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(BODY)))
                self.end_headers()
                self.wfile.write(BODY)

            def log_message(self, *args: Any) -> None:
                return None

        super().__init__((host, port), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def get_request(self) -> Any:
        accepted = super().get_request()
        self.connections += 1
        return accepted

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def close(self) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture
def files() -> Iterator[CountingServer]:
    server = CountingServer("127.0.0.1")
    yield server
    server.close()


@pytest.fixture
def canary() -> Iterator[CountingServer]:
    server = CountingServer("127.0.0.2")  # loopback too, but not the allowed address
    yield server
    server.close()


async def _copy(fetcher: GuardedFetcher, url: str) -> bytes:
    async with fetcher.stream(url) as body:
        return b"".join([chunk async for chunk in body.chunks])


def _account(base_url: str) -> AccountHandle:
    return AccountHandle(id="a1", name="up", kind="luma-official", base_url=base_url)


async def test_two_copies_from_one_allowed_host_share_one_connection(
    files: CountingServer, canary: CountingServer, tmp_path: Path
) -> None:
    fetchers = MirrorFetchers(Settings(data_dir=tmp_path))
    base = f"http://127.0.0.1:{files.port}"
    fetcher = fetchers.for_account(_account(base + "/dream-machine/v1"))
    try:
        assert await _copy(fetcher, base + "/v.mp4") == BODY
        assert await _copy(fetcher, base + "/t.jpg") == BODY
        assert files.hits == Counter({"/v.mp4": 1, "/t.jpg": 1})
        assert files.connections == 1
        # The canary is loopback like the account's host, but not its address: refused unsent,
        # while the pooled connection to the allowed host is open.
        with pytest.raises(UrlRefused):
            await _copy(fetcher, f"http://127.0.0.2:{canary.port}/v.mp4")
        assert canary.connections == 0 and canary.hits == Counter()
        assert files.connections == 1
    finally:
        await fetchers.aclose()


async def test_a_pooled_connection_serves_only_its_own_name_and_checked_address(
    files: CountingServer,
) -> None:
    names = {"media.test": ["127.0.0.1"], "other.test": ["127.0.0.1"], "evil.test": ["127.0.0.1"]}

    async def resolver(host: str, port: int) -> list[str]:
        return names[host]

    guard = SsrfGuard(["media.test", "other.test"], resolver=resolver)
    fetcher = GuardedFetcher(guard, keep_alive=True)
    try:
        await _copy(fetcher, f"http://media.test:{files.port}/a")
        await _copy(fetcher, f"http://media.test:{files.port}/b")
        assert files.connections == 1
        # A name the guard refuses, on the very address a pooled connection is open to: refused
        # before anything is sent, the open connection included.
        with pytest.raises(UrlRefused):
            await _copy(fetcher, f"http://evil.test:{files.port}/evil")
        # Another allowed name on the same address: its own connection, not media.test's.
        await _copy(fetcher, f"http://other.test:{files.port}/c")
        assert files.connections == 2
        assert files.hits == Counter({"/a": 1, "/b": 1, "/c": 1})
    finally:
        await fetcher.aclose()


async def test_a_name_that_resolves_elsewhere_does_not_reuse_its_old_connection(
    files: CountingServer,
) -> None:
    names = {"media.test": ["127.0.0.1"]}

    async def resolver(host: str, port: int) -> list[str]:
        return names[host]

    fetcher = GuardedFetcher(SsrfGuard(["media.test"], resolver=resolver), keep_alive=True)
    elsewhere = CountingServer("127.0.0.2", files.port)  # the same port on another address
    try:
        await _copy(fetcher, f"http://media.test:{files.port}/a")
        # media.test now resolves elsewhere (still admitted, by name): the request goes to the
        # newly checked address on a new connection, never down the pooled one to the old one.
        names["media.test"] = ["127.0.0.2"]
        await _copy(fetcher, f"http://media.test:{files.port}/b")
        assert files.hits == Counter({"/a": 1}) and files.connections == 1
        assert elsewhere.hits == Counter({"/b": 1}) and elsewhere.connections == 1
    finally:
        await fetcher.aclose()
        elsewhere.close()
