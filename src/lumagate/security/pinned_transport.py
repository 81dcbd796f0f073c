"""An httpx transport that connects to the address the SSRF guard checked, not to a new lookup.

Each request carries the checked address in its ``lumagate_connect_to`` extension. The transport
rewrites the URL's host to that address and keeps the ``Host`` header of the name (httpx set it
when the request was built); for https it sets ``sni_hostname`` so TLS uses SNI and verifies the
certificate against the name. A request without a pinned address is refused, so nothing can be
sent through this transport unchecked. Keep-alive is off: pooling by address would otherwise let
one name's TLS connection be reused for another name on the same address.
"""

from __future__ import annotations

import httpx

from lumagate.security.ssrf import parse_ip_literal
from lumagate.security.tls import client_tls

PIN_EXTENSION = "lumagate_connect_to"


class PinnedTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_keepalive_connections=0),
            trust_env=False,
            retries=0,
            verify=client_tls(trust_env=False),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        address = request.extensions.get(PIN_EXTENSION)
        if not isinstance(address, str) or parse_ip_literal(address) is None:
            raise httpx.ConnectError("refused: the request has no checked address", request=request)
        name = request.url.host
        request.url = request.url.copy_with(host=address)
        extensions = {k: v for k, v in request.extensions.items() if k != PIN_EXTENSION}
        if request.url.scheme == "https" and parse_ip_literal(name) is None:
            extensions["sni_hostname"] = name
        request.extensions = extensions
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
