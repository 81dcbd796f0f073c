"""PinnedTransport with keep-alive: one pool per (scheme, name, checked address, port), bounded.

Each pool is a mock transport that records the requests it carried and its closing, so nothing
here opens a socket (the real connections are counted in
tests/integration/engine/test_mirror_connections.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from lumagate.security.pinned_transport import PIN_EXTENSION, PinnedTransport


async def _body() -> AsyncIterator[bytes]:
    yield b"body"


class Pool(httpx.MockTransport):
    def __init__(self, made: list[Pool]) -> None:
        super().__init__(self._answer)
        self.carried: list[str] = []
        self.closed = False
        made.append(self)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.carried.append(str(request.url))
        return httpx.Response(200, content=_body())  # a stream, open until closed

    async def aclose(self) -> None:
        self.closed = True


def _client(made: list[Pool], max_pools: int = 32) -> httpx.AsyncClient:
    pinned = PinnedTransport(keep_alive=True, max_pools=max_pools, new_pool=lambda: Pool(made))
    return httpx.AsyncClient(transport=pinned)


async def _get(client: httpx.AsyncClient, url: str, address: str) -> httpx.Response:
    request = client.build_request("GET", url, extensions={PIN_EXTENSION: address})
    return await client.send(request, stream=True)  # open until the caller closes it


async def test_a_pool_carries_only_its_own_name_and_checked_address() -> None:
    made: list[Pool] = []
    async with _client(made) as client:
        for url, address in (
            ("https://a.example/1", "93.184.215.14"),
            ("https://a.example/2", "93.184.215.14"),  # the same name and address: reused
            ("https://a.example/3", "93.184.215.15"),  # the name resolved elsewhere
            ("https://b.example/4", "93.184.215.14"),  # another name on the same address
            ("http://a.example/5", "93.184.215.14"),  # another scheme
            ("https://a.example:8443/6", "93.184.215.14"),  # another port
        ):
            await (await _get(client, url, address)).aclose()
    assert [len(pool.carried) for pool in made] == [2, 1, 1, 1, 1]
    assert made[0].carried == ["https://93.184.215.14/1", "https://93.184.215.14/2"]
    assert all(pool.closed for pool in made)  # closing the client closes every pool


async def test_past_the_bound_the_least_recently_used_idle_pool_is_closed() -> None:
    made: list[Pool] = []
    async with _client(made, max_pools=2) as client:
        carrying = await _get(client, "https://a.example/", "93.184.215.14")  # left open
        await (await _get(client, "https://b.example/", "93.184.215.14")).aclose()
        await (await _get(client, "https://c.example/", "93.184.215.14")).aclose()
        a, b, c = made
        assert b.closed and not a.closed and not c.closed  # a is carrying a response
        await carrying.aclose()
        await (await _get(client, "https://d.example/", "93.184.215.14")).aclose()
        assert a.closed and not c.closed  # now idle and the least recently used
