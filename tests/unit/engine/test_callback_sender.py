"""The callback sender's decisions, with an in-memory store and a mock transport (no I/O):
headers and signature, delivered/retried/refused/expired, no redirects followed."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import httpx

from lumagate.domain.clock import utcnow
from lumagate.engine.callback_sender import CallbackPolicy, CallbackSender
from lumagate.security.pinned_transport import PinnedTransport
from lumagate.security.signing import verify_signature
from lumagate.security.ssrf import SsrfGuard
from lumagate.store.deliveries import AttemptRecord, Delivery, DeliveryState

SECRET = "whsec_unit"


@dataclass
class MemoryStore:
    recorded: list[tuple[AttemptRecord, DeliveryState, datetime | None]] = field(
        default_factory=list
    )

    async def record_attempt(
        self,
        delivery: Delivery,
        attempt: AttemptRecord,
        *,
        state: DeliveryState,
        next_attempt_at: datetime | None,
        now: datetime,
    ) -> bool:
        self.recorded.append((attempt, state, next_attempt_at))
        return True


def delivery(
    url: str = "https://hooks.example/cb", age: float = 0.0, attempts: int = 0
) -> Delivery:
    created = utcnow() - timedelta(seconds=age)
    return Delivery(
        id="d-1",
        task_id="t-1",
        tenant_id="k-1",
        event="completed",
        url=url,
        body='{"id":"t-1","state":"completed"}',
        state=DeliveryState.PENDING,
        attempts=attempts,
        next_attempt_at=created,
        last_status=None,
        last_error=None,
        created_at=created,
        updated_at=created,
        delivered_at=None,
    )


def make_sender(handler, policy: CallbackPolicy | None = None):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        return {"hooks.example": ["93.184.216.34"], "inside.example": ["10.0.0.5"]}[host]

    async def secrets(tenant_id: str) -> str:
        return SECRET

    store = MemoryStore()
    client = httpx.AsyncClient(
        transport=PinnedTransport(httpx.MockTransport(handler)), follow_redirects=False
    )
    sender = CallbackSender(
        store,  # type: ignore[arg-type]
        secrets,
        SsrfGuard(resolver=resolve),
        policy or CallbackPolicy(backoff_base_seconds=2, backoff_cap_seconds=60),
        client,
    )
    return sender, store


async def test_delivered_with_headers_and_a_valid_signature() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    sender, store = make_sender(handler)
    assert await sender.attempt(delivery()) == DeliveryState.DELIVERED
    request = seen[0]
    assert request.url.host == "93.184.216.34" and request.headers["host"] == "hooks.example"
    assert request.headers["x-lumagate-event"] == "completed"
    assert request.headers["x-lumagate-delivery"] == "d-1"
    assert request.headers["content-type"] == "application/json"
    assert request.content == b'{"id":"t-1","state":"completed"}'
    assert verify_signature(SECRET, request.headers["x-lumagate-signature"], request.content)
    attempt, state, next_at = store.recorded[0]
    assert state == DeliveryState.DELIVERED
    assert (attempt.attempt, attempt.outcome, attempt.status_code, next_at) == (
        1,
        "delivered",
        200,
        None,
    )


async def test_non_2xx_is_retried_with_backoff_and_the_same_id() -> None:
    ids: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ids.append(request.headers["x-lumagate-delivery"])
        return httpx.Response(500)

    sender, store = make_sender(handler)
    before = utcnow()
    assert await sender.attempt(delivery(attempts=3)) == DeliveryState.PENDING
    attempt, _state, next_at = store.recorded[0]
    assert attempt.attempt == 4 and attempt.status_code == 500 and attempt.outcome == "http_error"
    assert next_at is not None
    wait = (next_at - before).total_seconds()
    assert 8 - 0.5 <= wait <= 16 + 0.5  # base 2 s doubled 3 times, jitter in [half, full]
    assert ids == ["d-1"]


async def test_redirects_are_not_followed() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(302, headers={"location": "http://169.254.169.254/"})

    sender, store = make_sender(handler)
    assert await sender.attempt(delivery()) == DeliveryState.PENDING
    assert len(calls) == 1 and store.recorded[0][0].status_code == 302


async def test_internal_targets_are_refused_without_a_request() -> None:
    calls: list[httpx.Request] = []
    sender, store = make_sender(lambda r: calls.append(r) or httpx.Response(200))
    for url in ("http://127.0.0.1:9/", "http://inside.example/", "http://0x7f000001/"):
        assert await sender.attempt(delivery(url)) == DeliveryState.REFUSED
    assert calls == []
    assert all(a.outcome == "refused" and a.error for a, _s, _n in store.recorded)


async def test_gives_up_after_the_retry_window() -> None:
    calls: list[httpx.Request] = []
    # Jittered delays fall in [base/2, base]: with base 200 every next try lands past the window.
    policy = CallbackPolicy(backoff_base_seconds=200, backoff_cap_seconds=200, max_age_seconds=60)
    sender, store = make_sender(lambda r: calls.append(r) or httpx.Response(503), policy)
    assert await sender.attempt(delivery()) == DeliveryState.FAILED  # next try would be too late
    assert await sender.attempt(replace(delivery(age=120))) == DeliveryState.FAILED
    assert len(calls) == 1 and store.recorded[1][0].outcome == "expired"


async def test_network_errors_are_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    sender, store = make_sender(handler)
    assert await sender.attempt(delivery()) == DeliveryState.PENDING
    assert store.recorded[0][0].outcome == "network_error"
