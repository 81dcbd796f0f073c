"""An httpx transport that connects to the address the SSRF guard checked, not to a new lookup.

Each request carries the checked address in its ``lumagate_connect_to`` extension. The transport
rewrites the URL's host to that address and keeps the ``Host`` header of the name (httpx set it
when the request was built); for https it sets ``sni_hostname`` so TLS uses SNI and verifies the
certificate against the name. A request without a pinned address is refused, so nothing can be
sent through this transport unchecked.

Keep-alive is off by default. With ``keep_alive=True`` (the media copies: many files from one
upstream storage host) connections are pooled, but never by address alone — that would let one
name's TLS connection be reused for another name on the same address — and never by name alone
— a name that now resolves elsewhere must not reuse a connection to its old address. Each
(scheme, name, pinned address, port) has its own pool, so a pooled connection only ever carries
requests for the very name and checked address it was opened for; the guard still checks every
URL before a request reaches this transport. At most ``max_pools`` pools are kept: past that
the least recently used idle one is closed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx

from lumagate.security.ssrf import parse_ip_literal
from lumagate.security.tls import client_tls

PIN_EXTENSION = "lumagate_connect_to"
DEFAULT_MAX_POOLS = 32
KEEPALIVE_PER_POOL = 4
KEEPALIVE_EXPIRY_SECONDS = 5.0

PoolKey = tuple[str, str, str, int]


def _transport(*, keep_alive: bool) -> httpx.AsyncHTTPTransport:
    limits = (
        httpx.Limits(
            max_keepalive_connections=KEEPALIVE_PER_POOL, keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS
        )
        if keep_alive
        else httpx.Limits(max_keepalive_connections=0)
    )
    return httpx.AsyncHTTPTransport(
        limits=limits, trust_env=False, retries=0, verify=client_tls(trust_env=False)
    )


@dataclass
class _Pool:
    transport: httpx.AsyncBaseTransport
    in_use: int = 0


class _Counted(httpx.AsyncByteStream):
    """A response body that gives its pool back when it is closed (so the pool may be evicted)."""

    def __init__(self, inner: httpx.AsyncByteStream, pool: _Pool) -> None:
        self._inner = inner
        self._pool: _Pool | None = pool

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.in_use -= 1
        await self._inner.aclose()


def _keep_alive_pool() -> httpx.AsyncBaseTransport:
    return _transport(keep_alive=True)


class PinnedTransport(httpx.AsyncBaseTransport):
    """See the module docstring. ``inner`` (tests: a mock) carries every request unpooled;
    ``new_pool`` makes each keep-alive pool (tests: a mock that records its closing)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport | None = None,
        *,
        keep_alive: bool = False,
        max_pools: int = DEFAULT_MAX_POOLS,
        new_pool: Callable[[], httpx.AsyncBaseTransport] = _keep_alive_pool,
    ) -> None:
        self._inner = inner if inner is not None or keep_alive else _transport(keep_alive=False)
        self._pools: OrderedDict[PoolKey, _Pool] = OrderedDict()
        self._max_pools = max_pools
        self._new_pool = new_pool

    @property
    def pool_keys(self) -> list[PoolKey]:
        """The (scheme, name, address, port) of each pool kept, least recently used first."""
        return list(self._pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        address = request.extensions.get(PIN_EXTENSION)
        if not isinstance(address, str) or parse_ip_literal(address) is None:
            raise httpx.ConnectError("refused: the request has no checked address", request=request)
        name = request.url.host
        key: PoolKey = (request.url.scheme, name.lower(), address, request.url.port or 0)
        request.url = request.url.copy_with(host=address)
        extensions = {k: v for k, v in request.extensions.items() if k != PIN_EXTENSION}
        if request.url.scheme == "https" and parse_ip_literal(name) is None:
            extensions["sni_hostname"] = name
        request.extensions = extensions
        if self._inner is not None:
            return await self._inner.handle_async_request(request)
        pool = await self._pool(key)
        pool.in_use += 1
        try:
            response = await pool.transport.handle_async_request(request)
        except BaseException:
            pool.in_use -= 1
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Counted(response.stream, pool)
        return response

    async def _pool(self, key: PoolKey) -> _Pool:
        pool = self._pools.get(key)
        if pool is not None:
            self._pools.move_to_end(key)
            return pool
        pool = self._pools[key] = _Pool(self._new_pool())
        while len(self._pools) > self._max_pools:
            idle = next((k for k, p in self._pools.items() if p.in_use == 0 and k != key), None)
            if idle is None:
                break  # every other pool is carrying a response: over the bound for a moment
            await self._pools.pop(idle).transport.aclose()
        return pool

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.transport.aclose()
        if self._inner is not None:
            await self._inner.aclose()
