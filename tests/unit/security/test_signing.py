"""Callback signatures: the documented format, verification, tampering, replay window."""

from __future__ import annotations

import hashlib
import hmac

from lumagate.security.signing import (
    generate_webhook_secret,
    parse_signature,
    sign,
    verify_signature,
)

SECRET = "whsec_test"
BODY = b'{"id":"abc","state":"completed"}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    header = sign(SECRET, 1700000000, BODY)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert parse_signature(header) == (1700000000, [expected])


def test_verify_accepts_the_right_secret_and_body() -> None:
    header = sign(SECRET, 1700000000, BODY)
    assert verify_signature(SECRET, header, BODY)
    assert verify_signature(SECRET, header, BODY, now=1700000100)


def test_verify_refuses_tampering_wrong_secret_and_replays() -> None:
    header = sign(SECRET, 1700000000, BODY)
    assert not verify_signature(SECRET, header, BODY + b" ")
    assert not verify_signature("whsec_other", header, BODY)
    assert not verify_signature(SECRET, header.replace("t=1700000000", "t=1700000001"), BODY)
    assert not verify_signature(SECRET, header, BODY, now=1700000000 + 3600)
    assert not verify_signature(SECRET, "garbage", BODY)
    assert not verify_signature(SECRET, "t=1,v1=", BODY)


def test_any_of_several_v1_values_may_match() -> None:
    good = sign(SECRET, 5, BODY).split("v1=")[1]
    assert verify_signature(SECRET, f"t=5,v1=deadbeef,v1={good}", BODY)


def test_generated_secrets_are_long_and_distinct() -> None:
    a, b = generate_webhook_secret(), generate_webhook_secret()
    assert a != b and a.startswith("whsec_") and len(a) == len("whsec_") + 64
