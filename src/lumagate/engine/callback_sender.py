"""The callback sender: POSTs stored deliveries when due, signs them, retries for up to 24 h.

Each pass claims due deliveries from the store (so replicas share them and a restart resumes
them), checks the target with the SSRF guard, and connects to exactly the address the guard
approved (:class:`~lumagate.security.pinned_transport.PinnedTransport`). Any 2xx is delivered;
anything else (including a redirect, which is never followed) is retried with exponential backoff
and jitter until the delivery is older than the retry window. A refused target is recorded as
refused with the reason and never retried.

Every attempt of one delivery carries the same ``X-Lumagate-Delivery`` id (also its Standard
Webhooks ``webhook-id``) and the same body; the signatures' timestamp is the attempt's. Logs
name the delivery and host, never the URL (callback URLs often carry a token) and never the
secret.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from lumagate import __version__
from lumagate.domain.clock import utcnow
from lumagate.domain.retry import RetryPolicy
from lumagate.engine.periodic import PassOutcome, run_periodically
from lumagate.engine.signals import Wakeup
from lumagate.security.pinned_transport import PIN_EXTENSION, PinnedTransport
from lumagate.security.signing import SIGNATURE_HEADER, sign, standard_webhook_headers
from lumagate.security.ssrf import CallbackRefused, CheckedTarget, SsrfGuard, TargetUnresolvable
from lumagate.settings import Settings
from lumagate.store.deliveries import AttemptRecord, Delivery, DeliveryState, DeliveryStore

log = logging.getLogger(__name__)

SecretLookup = Callable[[str], Awaitable[str]]  # tenant id -> webhook secret
IDLE_SECONDS = 5.0
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class CallbackPolicy:
    timeout_seconds: float = 10.0
    backoff_base_seconds: float = 5.0
    backoff_cap_seconds: float = 3600.0
    max_age_seconds: float = 24 * 3600.0
    concurrency: int = 16

    @classmethod
    def from_settings(cls, settings: Settings) -> CallbackPolicy:
        return cls(
            timeout_seconds=settings.callback_timeout_seconds,
            backoff_base_seconds=settings.callback_backoff_base_seconds,
            backoff_cap_seconds=settings.callback_backoff_cap_seconds,
            max_age_seconds=settings.callback_max_age_seconds,
            concurrency=settings.callback_concurrency,
        )

    @property
    def backoff(self) -> RetryPolicy:
        # Unlimited in count: a delivery gives up when its retry window (max_age) has passed.
        return RetryPolicy.unlimited(self.backoff_base_seconds, self.backoff_cap_seconds)


@dataclass(frozen=True)
class _Result:
    outcome: str
    status_code: int | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _describe(exc: BaseException) -> str:
    text = str(exc) or "no detail"
    return f"{type(exc).__name__}: {text}"[:MAX_ERROR_CHARS]


class CallbackSender:
    def __init__(
        self,
        store: DeliveryStore,
        secrets: SecretLookup,
        guard: SsrfGuard,
        policy: CallbackPolicy,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.store = store
        self.secrets = secrets
        self.guard = guard
        self.policy = policy
        self.client = client or httpx.AsyncClient(
            transport=PinnedTransport(),
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(policy.timeout_seconds),
        )
        self.wakeup = Wakeup()
        self._slots = asyncio.Semaphore(policy.concurrency)

    def poke(self) -> None:
        """A delivery was stored: look for due work now."""
        self.wakeup.set()

    async def run(self) -> None:
        await run_periodically("callback", self._pass, self.wakeup, IDLE_SECONDS)

    async def _pass(self) -> PassOutcome:
        if await self.send_due():
            return PassOutcome(again=True)
        return PassOutcome(due=await self.store.next_due())

    async def send_due(self) -> int:
        hold = timedelta(seconds=self.policy.timeout_seconds * 3 + 5)
        claimed = await self.store.claim_due(utcnow(), hold, self.policy.concurrency * 4)
        await asyncio.gather(*(self._guarded(d) for d in claimed))
        return len(claimed)

    async def close(self) -> None:
        await self.client.aclose()

    async def _guarded(self, delivery: Delivery) -> None:
        async with self._slots:
            try:
                await self.attempt(delivery)
            except Exception:
                log.exception("callback delivery %s failed unexpectedly", delivery.id)

    async def attempt(self, delivery: Delivery) -> DeliveryState:
        """One attempt of ``delivery``; records it and returns the delivery's new state."""
        started = utcnow()
        clock = time.monotonic()
        expired = (started - delivery.created_at).total_seconds() > self.policy.max_age_seconds
        if expired:
            result = _Result("expired", error="gave up: the retry window has passed")
        else:
            result = await self._try(delivery)
        state, next_at = self._next(delivery, result, started, expired)
        record = AttemptRecord(
            attempt=delivery.attempts + 1,
            started_at=started,
            duration_ms=int((time.monotonic() - clock) * 1000),
            outcome=result.outcome,
            status_code=result.status_code,
            error=result.error,
        )
        await self.store.record_attempt(
            delivery, record, state=state, next_attempt_at=next_at, now=utcnow()
        )
        if state != DeliveryState.DELIVERED:
            log.info(
                "callback %s (%s) attempt %d: %s",
                delivery.id,
                delivery.event,
                record.attempt,
                result.error or result.status_code,
            )
        return state

    def _next(
        self, delivery: Delivery, result: _Result, now: datetime, expired: bool
    ) -> tuple[DeliveryState, datetime | None]:
        if result.delivered:
            return DeliveryState.DELIVERED, None
        if result.outcome == "refused":
            return DeliveryState.REFUSED, None
        if expired:
            return DeliveryState.FAILED, None
        delay = self.policy.backoff.delay(delivery.attempts + 1)
        next_at = now + timedelta(seconds=delay)
        deadline = delivery.created_at + timedelta(seconds=self.policy.max_age_seconds)
        if next_at > deadline:
            return DeliveryState.FAILED, None
        return DeliveryState.PENDING, next_at

    async def _try(self, delivery: Delivery) -> _Result:
        try:
            target = await self.guard.check(delivery.url)
        except CallbackRefused as exc:
            return _Result("refused", error=exc.reason[:MAX_ERROR_CHARS])
        except TargetUnresolvable as exc:
            return _Result("unresolvable", error=str(exc)[:MAX_ERROR_CHARS])
        secret = await self.secrets(delivery.tenant_id)
        body = delivery.body.encode("utf-8")
        now = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"lumagate/{__version__}",
            "X-Lumagate-Event": delivery.event,
            "X-Lumagate-Delivery": delivery.id,
            SIGNATURE_HEADER: sign(secret, now, body),
            **standard_webhook_headers(secret, delivery.id, now, body),
        }
        try:
            async with asyncio.timeout(self.policy.timeout_seconds):
                return await self._post(target, body, headers)
        except TimeoutError:
            return _Result("network_error", error="timed out")

    async def _post(self, target: CheckedTarget, body: bytes, headers: dict[str, str]) -> _Result:
        last_error = "no address to connect to"
        for address in target.addresses:
            try:
                request = self.client.build_request(
                    "POST",
                    target.url,
                    content=body,
                    headers=headers,
                    extensions={PIN_EXTENSION: str(address)},
                )
            except httpx.InvalidURL as exc:
                return _Result("refused", error=f"malformed URL: {exc}"[:MAX_ERROR_CHARS])
            try:
                response = await self.client.send(request, stream=True)
            except httpx.ConnectError as exc:
                last_error = _describe(exc)
                continue  # try the next checked address
            except httpx.HTTPError as exc:
                return _Result("network_error", error=_describe(exc))
            await response.aclose()
            if 200 <= response.status_code < 300:
                return _Result("delivered", status_code=response.status_code)
            return _Result(
                "http_error",
                status_code=response.status_code,
                error=f"HTTP {response.status_code}",
            )
        return _Result("network_error", error=last_error)
