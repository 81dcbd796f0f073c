"""Upstream HTTP for every provider: one shared client, error mapping, retries of safe calls.

Providers never talk to ``httpx`` exceptions or status codes directly. :class:`UpstreamHttp`
sends through the gateway's one upstream ``httpx.AsyncClient`` and turns what comes back into
the provider errors the engine understands (``providers/base.py``):

- timeouts and connection errors, 408 and 5xx → :class:`TransientError`;
- 429 → :class:`RateLimited` (with ``Retry-After`` when the upstream sent one);
- 401, 403 → :class:`AuthenticationFailed` (the account is disabled with the reason);
- 402 or a refusal that talks about credits → :class:`AccountExhausted` (disabled too);
- 404 → :class:`UpstreamNotFound`; any other 4xx → :class:`Rejected`.

Idempotent methods (GET, HEAD, PUT, DELETE) are retried in the call on transient errors with
tenacity (exponential backoff, full jitter, a few attempts); a POST is retried only when the
caller says it is idempotent (e.g. it carries an ``Idempotency-Key``), because a lost answer to
a create must go to the reconciler, never to a blind second create.
"""

from __future__ import annotations

import email.utils
import ipaddress
import time
from collections.abc import Awaitable, Mapping
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, TypedDict, Unpack
from urllib.parse import urlsplit

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from lumagate.providers.base import (
    GONE,
    AuthenticationFailed,
    ProviderError,
    RateLimited,
    Rejected,
    TransientError,
)
from lumagate.security.tls import client_tls

SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
DETAIL_LIMIT = 300


class UpstreamNotFound(Rejected):
    """404: the upstream does not know this id (on this account)."""


class AccountExhausted(AuthenticationFailed):
    """The account has no credit or quota left: disabled like dead credentials, with the reason."""


def new_upstream_client(timeout_seconds: float, connect_seconds: float = 10.0) -> httpx.AsyncClient:
    """The one client every provider shares: bounded timeouts, a connection pool, JSON accept.

    Its cookie jar refuses every cookie: accounts share the client, and a session cookie one
    account receives must never ride along on another's request (web sessions are kept per
    account by ``providers/web_session.py``).
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds, connect=connect_seconds),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        headers={"Accept": "application/json"},
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        follow_redirects=False,
        verify=client_tls(trust_env=True),  # one CA bundle load for every outbound client
    )


def error_detail(response: httpx.Response) -> str:
    """The upstream's own words: ``detail`` (Luma), ``error.message`` (resellers), ``message``."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:DETAIL_LIMIT] if text else response.reason_phrase
    found: Any = None
    if isinstance(body, dict):
        found = body.get("detail") or body.get("message")
        error = body.get("error")
        if isinstance(error, dict):
            found = error.get("message") or found
        elif isinstance(error, str):
            found = found or error
    if isinstance(found, list):  # FastAPI-style validation errors
        found = "; ".join(
            str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in found
        )
    return str(found)[:DETAIL_LIMIT] if found else response.reason_phrase


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def map_status(response: httpx.Response, what: str) -> ProviderError | None:
    """The provider error for a failed response, or None for a success."""
    status = response.status_code
    if status < 400:
        return None
    detail = error_detail(response)
    if status == 429:
        return RateLimited(
            f"The upstream is busy (HTTP 429): {detail}",
            retry_after_seconds(response.headers.get("retry-after")),
        )
    if status in (401, 403):
        if "credit" in detail.lower() or "quota" in detail.lower():
            return AccountExhausted(f"The upstream account is out of credit: {detail}")
        return AuthenticationFailed(
            f"The upstream refused the credentials (HTTP {status}): {detail}"
        )
    if status == 402 or (status == 400 and "insufficient credit" in detail.lower()):
        return AccountExhausted(f"The upstream account is out of credit: {detail}")
    if status == 404:
        return UpstreamNotFound(f"The upstream does not know {what}: {detail}")
    if status == 408 or status >= 500:
        return TransientError(f"The upstream failed (HTTP {status}) on {what}: {detail}")
    return Rejected(detail)


def is_loopback_url(url: str) -> bool:
    """True when ``url`` names this machine (``localhost`` or a loopback address)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RequestOptions(TypedDict, total=False):
    """What :meth:`UpstreamHttp.json` passes on to :meth:`UpstreamHttp.send`."""

    headers: Mapping[str, str] | None
    params: Mapping[str, str | int] | None
    json: Any
    content: bytes | None
    idempotent: bool | None


class UpstreamHttp:
    """The shared upstream client plus the error mapping and in-call retry policy."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        attempts: int = 3,
        backoff_seconds: float = 0.2,
        max_backoff_seconds: float = 2.0,
    ) -> None:
        self.client = client
        self.attempts = max(1, attempts)
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds

    async def send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        content: bytes | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one request; raises a provider error for anything but a 2xx/3xx answer.

        ``what`` names the call in error messages (e.g. ``"generation 1234"``). Safe methods,
        and a POST marked ``idempotent``, are retried on transient errors.
        """
        method = method.upper()
        retry = method in SAFE_METHODS if idempotent is None else idempotent
        if not retry or self.attempts == 1:
            return await self._once(method, url, what, headers, params, json, content)
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_random_exponential(
                multiplier=self.backoff_seconds, max=self.max_backoff_seconds
            ),
            retry=retry_if_exception_type(TransientError),
            reraise=True,
        ):
            with attempt:
                return await self._once(method, url, what, headers, params, json, content)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def json(
        self, method: str, url: str, *, what: str, **options: Unpack[RequestOptions]
    ) -> Any:
        """:meth:`send`, then the JSON body (a non-JSON success is a transient upstream fault)."""
        return parse_json(await self.send(method, url, what=what, **options), what)

    async def _once(
        self,
        method: str,
        url: str,
        what: str,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str | int] | None,
        json: Any,
        content: bytes | None,
    ) -> httpx.Response:
        try:
            response = await self.client.request(
                method, url, headers=headers, params=params, json=json, content=content
            )
        except httpx.TimeoutException as exc:
            raise TransientError(f"The upstream did not answer in time on {what}") from exc
        except httpx.HTTPError as exc:
            detail = str(exc) or type(exc).__name__
            raise TransientError(f"Could not reach the upstream on {what}: {detail}") from exc
        error = map_status(response, what)
        if error is not None:
            raise error
        return response


async def fetch_or_gone(upstream_id: str, call: Awaitable[Any]) -> dict[str, Any] | None:
    """The answer of ``call`` (a GET of one generation) when it is an object, else None.

    A 404 means the upstream no longer has the generation: the answer is then a failed record
    of that id with the reason :data:`GONE`, in the flat shape every provider reads.
    """
    try:
        raw = await call
    except UpstreamNotFound:
        return {"id": upstream_id, "state": "failed", "failure_reason": GONE}
    return raw if isinstance(raw, dict) else None


def parse_json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise TransientError(
            f"The upstream answered {what} with something that is not JSON"
        ) from exc
