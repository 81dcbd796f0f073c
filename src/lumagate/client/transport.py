"""The HTTP plumbing both clients share: base URL, the key only to the gateway, error mapping.

A session sends a :class:`~lumagate.client.calls.Call` and runs a flow (``flows.py``) over
blocking or asyncio I/O: the only part of the client written twice.

The key is attached by an :class:`httpx.Auth` that checks the request's origin, so following a
download link to another host (a CDN, an upstream's storage) never sends the tenant key there.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Generator
from typing import Any, Generic, Self, TypeVar

import httpx

from lumagate import __version__
from lumagate.client import calls
from lumagate.client.calls import Call
from lumagate.client.errors import error_from_response, unreachable
from lumagate.client.flows import Flow, FlowRun, Step

T = TypeVar("T")
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)

USER_AGENT = f"lumagate-client/{__version__}"
DEFAULT_TIMEOUT_SECONDS = 30.0


def normalise_base_url(base_url: str) -> str:
    url = base_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"the gateway URL must start with http:// or https://, not {base_url!r}")
    return url


class GatewayKeyAuth(httpx.Auth):
    """``Authorization: Bearer <key>`` on requests to the gateway's own origin only."""

    def __init__(self, base_url: str, api_key: str) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        self._origin = httpx.URL(base_url).copy_with(path="/", query=None, fragment=None)
        self._header = f"Bearer {api_key}"

    def _same_origin(self, url: httpx.URL) -> bool:
        return (url.scheme, url.host, url.port) == (
            self._origin.scheme,
            self._origin.host,
            self._origin.port,
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._same_origin(request.url):
            request.headers["Authorization"] = self._header
        yield request


def client_options(base_url: str, api_key: str, timeout: float) -> dict[str, Any]:
    """Keyword arguments for ``httpx.Client`` / ``httpx.AsyncClient``."""
    return {
        "base_url": base_url,
        "auth": GatewayKeyAuth(base_url, api_key),
        "timeout": httpx.Timeout(timeout),
        "headers": {"User-Agent": USER_AGENT, "Accept": "application/json"},
    }


def build(http: httpx.Client | httpx.AsyncClient, call: Call) -> httpx.Request:
    return http.build_request(
        call.method, call.path, json=call.json, params=call.params, headers=call.headers
    )


def checked(response: httpx.Response) -> httpx.Response:
    """``response`` if it is a 2xx, else the typed exception for it."""
    if response.is_success:
        return response
    raise error_from_response(response)


class _Session(ABC, Generic[TransportT]):
    """What both sessions are made of: the gateway's base URL, the default channel of the
    reseller clients (``None`` for the admin client) and an httpx client with the key."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        channel: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        transport: TransportT | None = None,
    ) -> None:
        self.base_url = normalise_base_url(base_url)
        self.channel = channel
        calls.prefix(channel)  # an unknown channel is refused now, not at the first create
        self._open(client_options(self.base_url, api_key, timeout), transport)

    @abstractmethod
    def _open(self, options: dict[str, Any], transport: TransportT | None) -> None:
        """Make ``self._http``: the blocking or the asyncio httpx client."""


class GatewaySession(_Session[httpx.BaseTransport]):
    """A blocking ``httpx.Client`` bound to one gateway and key: run a flow, close.

    The blocking clients subclass it and keep only their methods; a failure to connect is a
    ``ConnectionFailedError``, an answer other than 2xx its typed exception.
    """

    def _open(self, options: dict[str, Any], transport: httpx.BaseTransport | None) -> None:
        self._http = httpx.Client(**options, transport=transport)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: Call) -> httpx.Response:
        try:
            response = self._http.send(build(self._http, call))
        except httpx.TransportError as error:
            raise unreachable(self.base_url, error) from None
        return checked(response)

    def _perform(self, step: Step) -> httpx.Response | None:
        if isinstance(step, Call):
            return self._send(step)
        time.sleep(step)
        return None

    def _run(self, flow: Flow[T]) -> T:
        """Run a flow (``flows.py``): send its calls, sleep its pauses, return its result."""
        run = FlowRun(flow)
        while not run.done:
            run.answer(self._perform(run.step))
        return run.result


class AsyncGatewaySession(_Session[httpx.AsyncBaseTransport]):
    """The asyncio twin of :class:`GatewaySession` over an ``httpx.AsyncClient``."""

    def _open(self, options: dict[str, Any], transport: httpx.AsyncBaseTransport | None) -> None:
        self._http = httpx.AsyncClient(**options, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _send(self, call: Call) -> httpx.Response:
        try:
            response = await self._http.send(build(self._http, call))
        except httpx.TransportError as error:
            raise unreachable(self.base_url, error) from None
        return checked(response)

    async def _perform(self, step: Step) -> httpx.Response | None:
        if isinstance(step, Call):
            return await self._send(step)
        await asyncio.sleep(step)
        return None

    async def _run(self, flow: Flow[T]) -> T:
        """Run a flow (``flows.py``): send its calls, await its pauses, return its result."""
        run = FlowRun(flow)
        while not run.done:
            run.answer(await self._perform(run.step))
        return run.result
