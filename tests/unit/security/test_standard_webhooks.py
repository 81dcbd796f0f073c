"""How the Standard Webhooks HMAC key comes from a secret, checked against the reference
``standardwebhooks`` package: the same key whatever form of secret it is handed."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from lumagate.security.signing import (
    generate_webhook_secret,
    standard_webhook_headers,
    standard_webhook_key,
)

BODY = b'{"id":"t-1","state":"completed"}'
STAMP = 1_764_000_000


@pytest.mark.parametrize(
    "secret",
    [
        generate_webhook_secret(),  # what lumagate hands out: whsec_ + 64 hex digits
        "whsec_" + base64.b64encode(b"\x00\xffsome raw key bytes").decode(),  # spec's form
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # unpadded base64, as Svix prints them
    ],
    ids=["generated", "padded-base64", "unpadded-base64"],  # stable across xdist workers
)
def test_signature_matches_the_reference_library(secret: str) -> None:
    headers = standard_webhook_headers(secret, "msg-1", STAMP, BODY)
    expected = Webhook(secret).sign("msg-1", datetime.fromtimestamp(STAMP, UTC), BODY.decode())
    assert headers == {
        "webhook-id": "msg-1",
        "webhook-timestamp": str(STAMP),
        "webhook-signature": expected,
    }


def test_our_secrets_decode_to_48_key_bytes() -> None:
    secret = generate_webhook_secret()
    key = standard_webhook_key(secret)
    assert len(key) == 48
    assert key == base64.b64decode(secret.removeprefix("whsec_"))
    assert standard_webhook_key(secret) != standard_webhook_key(generate_webhook_secret())


def test_the_signed_text_is_id_timestamp_and_body() -> None:
    one = standard_webhook_headers("whsec_c2VjcmV0", "msg-1", STAMP, BODY)
    assert one != standard_webhook_headers("whsec_c2VjcmV0", "msg-2", STAMP, BODY)
    assert one != standard_webhook_headers("whsec_c2VjcmV0", "msg-1", STAMP + 1, BODY)
    assert one != standard_webhook_headers("whsec_c2VjcmV0", "msg-1", STAMP, BODY + b" ")
