"""GET a URL a tenant supplied without letting the tenant reach the gateway's own network.

Callbacks POST to tenant URLs; images (every dialect's image fields, ``file_upload``'s ``url``)
are GETs from tenant URLs. Both go through one :class:`~lumagate.security.ssrf.SsrfGuard`
configuration — the same address rules and the same ``LUMAGATE_CALLBACK_ALLOW`` list — so an
operator has one place to admit an internal host. :class:`GuardedFetcher` adds what a GET needs:

- every hop is checked before it is connected to: the first URL and each redirect target
  (at most ``max_redirects``), and the connection goes to exactly the checked address
  (:class:`~lumagate.security.pinned_transport.PinnedTransport`: no second DNS lookup);
- the whole fetch, redirects included, takes at most ``timeout`` seconds;
- at most ``max_bytes`` are read, enforced while streaming (a lying or absent Content-Length
  changes nothing);
- failures carry a ``reason`` a tenant may read: the host they named and the HTTP status,
  never an address the guard refused or a resolver's or socket's own words.

:meth:`GuardedFetcher.precheck` is the create-time half: it refuses a forbidden target (a
private or loopback address, a name resolving to one, a non-http(s) scheme) without connecting.
A name that does not resolve passes the precheck (DNS may be down for a moment); the fetch
later fails with a reason.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx

from lumagate.domain.fetching import Fetched, FetchedStream, FetchFailed, TooLarge, UrlRefused
from lumagate.security.pinned_transport import PIN_EXTENSION, PinnedTransport
from lumagate.security.ssrf import CallbackRefused, CheckedTarget, SsrfGuard, TargetUnresolvable

DEFAULT_FETCH_TIMEOUT = 15.0
DEFAULT_MAX_FETCH_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 3
__all__ = ["FetchFailed", "Fetched", "GuardedFetcher", "TooLarge", "UrlRefused"]


def _size(n_bytes: int) -> str:
    mib = 1024 * 1024
    if n_bytes >= mib:
        return f"{n_bytes / mib:.4g} MB"
    return f"{n_bytes / 1024:.4g} KB" if n_bytes >= 1024 else f"{n_bytes} bytes"


def _host_of(url: str) -> str:
    """The host as the tenant wrote it (for messages); refuses what is not http(s) with a host."""
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        raise UrlRefused("the URL is malformed") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UrlRefused("only http and https URLs are allowed")
    if not parts.hostname:
        raise UrlRefused("the URL has no host")
    return parts.hostname


class GuardedFetcher:
    """GETs tenant-supplied URLs through the SSRF guard; see the module docstring.

    ``transport`` is the inner transport under the pinning one (tests pass a mock; the default
    opens real connections without proxies from the environment). ``keep_alive`` pools
    connections per name and checked address (``PinnedTransport``); off, each GET connects anew.
    """

    def __init__(
        self,
        guard: SsrfGuard,
        *,
        max_bytes: int = DEFAULT_MAX_FETCH_BYTES,
        timeout: float = DEFAULT_FETCH_TIMEOUT,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        transport: httpx.AsyncBaseTransport | None = None,
        keep_alive: bool = False,
    ) -> None:
        self.guard = guard
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.max_redirects = max_redirects
        self._client = httpx.AsyncClient(
            transport=PinnedTransport(transport, keep_alive=keep_alive),
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def precheck(self, url: str) -> None:
        """Refuse a forbidden target without connecting (see the module docstring)."""
        await self._check(url, unresolvable_ok=True)

    async def fetch(self, url: str) -> Fetched:
        """The body of ``url``; raises :class:`UrlRefused` or :class:`FetchFailed`."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(url)
        except TimeoutError:
            raise FetchFailed(f"timed out after {self.timeout:g} s") from None

    @contextlib.asynccontextmanager
    async def stream(self, url: str) -> AsyncIterator[FetchedStream]:
        """``url``'s body in chunks, at most ``max_bytes`` of it; for files too large to hold
        (videos). Opening, redirects included, takes at most ``timeout`` seconds; reading is
        bounded by the caller. A declared length over the cap is refused on opening, unread."""
        try:
            async with asyncio.timeout(self.timeout):
                response, host = await self._final(url, accept="*/*")
        except TimeoutError:
            raise FetchFailed(f"timed out after {self.timeout:g} s") from None
        try:
            declared = response.headers.get("content-length", "").strip()
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise TooLarge(f"the file at {host} is larger than {_size(self.max_bytes)}")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            yield FetchedStream(content_type, host, self._chunks(response, host))
        finally:
            await response.aclose()

    async def _chunks(self, response: httpx.Response, host: str) -> AsyncIterator[bytes]:
        too_large = TooLarge(f"the file at {host} is larger than {_size(self.max_bytes)}")
        read = 0
        try:
            async for chunk in response.aiter_bytes():
                read += len(chunk)
                if read > self.max_bytes:
                    raise too_large
                yield chunk
        except httpx.HTTPError:
            raise FetchFailed(f"the connection to {host} failed while reading") from None

    async def _check(self, url: str, *, unresolvable_ok: bool) -> CheckedTarget | None:
        host = _host_of(url)
        try:
            return await self.guard.check(url)
        except CallbackRefused:
            raise UrlRefused(f"{host} is not a public address") from None
        except TargetUnresolvable:
            if unresolvable_ok:
                return None
            raise FetchFailed(f"{host} does not resolve") from None

    async def _follow(self, url: str) -> Fetched:
        response, host = await self._final(url, accept="image/*")
        try:
            return await self._read(response, host)
        finally:
            await response.aclose()

    async def _final(self, url: str, *, accept: str) -> tuple[httpx.Response, str]:
        """The open response at the end of the redirects (the caller closes it) and its host."""
        first_host = _host_of(url)
        for hop in range(self.max_redirects + 1):
            try:
                target = await self._check(url, unresolvable_ok=False)
            except UrlRefused as exc:
                if hop == 0:
                    raise
                raise UrlRefused(f"{first_host} redirected to a URL that is not allowed") from exc
            assert target is not None
            response = await self._open(target, accept)
            location = response.headers.get("location")
            if response.is_success:
                return response, target.host
            await response.aclose()
            if response.is_redirect and location:
                url = _join(target.url, location, first_host)
                continue
            status = response.status_code
            raise FetchFailed(f"HTTP {status} from {target.host}", status=status)
        raise FetchFailed(f"more than {self.max_redirects} redirects from {first_host}")

    async def _open(self, target: CheckedTarget, accept: str) -> httpx.Response:
        """Connect to the checked addresses in turn; the first that answers is used."""
        for address in target.addresses:
            try:
                request = self._client.build_request(
                    "GET",
                    target.url,
                    headers={"Accept": accept},
                    extensions={PIN_EXTENSION: str(address)},
                )
            except httpx.InvalidURL:
                raise UrlRefused("the URL is malformed") from None
            try:
                return await self._client.send(request, stream=True)
            except httpx.ConnectError:
                continue  # try the next checked address
            except httpx.HTTPError:
                raise FetchFailed(f"the connection to {target.host} failed") from None
        raise FetchFailed(f"could not connect to {target.host}")

    async def _read(self, response: httpx.Response, host: str) -> Fetched:
        too_large = TooLarge(f"the file at {host} is larger than {_size(self.max_bytes)}")
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large
        body = bytearray()
        try:
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > self.max_bytes:
                    raise too_large
        except httpx.HTTPError:
            raise FetchFailed(f"the connection to {host} failed while reading") from None
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        return Fetched(bytes(body), content_type, host)


def _join(base: str, location: str, first_host: str) -> str:
    """The redirect target, resolved against the URL as the tenant named it (not the address)."""
    try:
        return str(httpx.URL(base).join(location))
    except (httpx.InvalidURL, ValueError):
        raise UrlRefused(f"{first_host} redirected to a URL that is not allowed") from None
