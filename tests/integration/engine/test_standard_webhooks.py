"""A callback sent by the real sender over loopback verifies with the ``standardwebhooks``
package given the key's webhook secret exactly as lumagate hands it out (``whsec_…``), and the
``X-Lumagate-Signature`` beside it still verifies with lumagate's own rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from lumagate.domain.clock import utcnow
from lumagate.engine.callback_sender import CallbackPolicy, CallbackSender
from lumagate.security.signing import generate_webhook_secret, verify_signature
from lumagate.security.ssrf import SsrfGuard
from lumagate.store.deliveries import AttemptRecord, Delivery, DeliveryState
from tests.support.receiver import CallbackReceiver, Received


class RecordingStore:
    """Keeps the attempts the sender records (the sender's only store call in an attempt)."""

    def __init__(self) -> None:
        self.states: list[DeliveryState] = []

    async def record_attempt(
        self, delivery: Delivery, attempt: AttemptRecord, **changes: object
    ) -> bool:
        state = changes["state"]
        assert isinstance(state, DeliveryState)
        self.states.append(state)
        return True


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    started = CallbackReceiver().start()
    try:
        yield started
    finally:
        started.stop()


def _delivery(url: str, delivery_id: str) -> Delivery:
    created = utcnow() - timedelta(seconds=1)
    return Delivery(
        id=delivery_id,
        task_id="6f1c2b7e-0000-4000-8000-000000000001",
        tenant_id="key-1",
        event="completed",
        url=url,
        body='{"id":"6f1c2b7e-0000-4000-8000-000000000001","state":"completed","note":"é"}',
        state=DeliveryState.PENDING,
        attempts=0,
        next_attempt_at=created,
        last_status=None,
        last_error=None,
        created_at=created,
        updated_at=created,
        delivered_at=None,
    )


async def _send(receiver: CallbackReceiver, secret: str, delivery_id: str) -> Received:
    async def secrets(tenant_id: str) -> str:
        return secret

    store = RecordingStore()
    sender = CallbackSender(
        store,  # type: ignore[arg-type]
        secrets,
        SsrfGuard(allow=["127.0.0.1/32"]),
        CallbackPolicy(timeout_seconds=5),
    )
    try:
        state = await sender.attempt(_delivery(receiver.url + "/hook", delivery_id))
    finally:
        await sender.close()
    assert state == DeliveryState.DELIVERED and store.states == [DeliveryState.DELIVERED]
    (received,) = receiver.wait_for(lambda got: len(got) == 1)
    return received


async def test_a_callback_verifies_with_the_standardwebhooks_package(
    receiver: CallbackReceiver,
) -> None:
    secret = generate_webhook_secret()
    assert secret.startswith("whsec_")
    received = await _send(receiver, secret, "delivery-42")

    headers = received.headers
    assert headers["webhook-id"] == "delivery-42" == headers["x-lumagate-delivery"]
    assert headers["webhook-signature"].startswith("v1,")
    payload = Webhook(secret).verify(received.body, headers)  # the secret as given
    assert payload["state"] == "completed" and payload["note"] == "é"
    # Both forms are signed at the same moment, and the gateway's own form still holds.
    timestamp = int(headers["webhook-timestamp"])
    assert headers["x-lumagate-signature"].startswith(f"t={timestamp},")
    assert verify_signature(secret, headers["x-lumagate-signature"], received.body)

    # What the library refuses: another body, another id, another key's secret.
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(received.body.replace(b"completed", b"failed"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(received.body, {**headers, "webhook-id": "delivery-43"})
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_webhook_secret()).verify(received.body, headers)
