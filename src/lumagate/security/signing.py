"""Callback signatures, in two forms carried side by side on every callback.

- ``X-Lumagate-Signature: t=<unix>,v1=<hex HMAC-SHA256("<t>.<body>")>``, keyed by the webhook
  secret's text. :func:`verify_signature` is what a receiver does.
- Standard Webhooks (https://www.standardwebhooks.com): ``webhook-id``, ``webhook-timestamp``
  and ``webhook-signature: v1,<base64 HMAC-SHA256("<id>.<timestamp>.<body>")>``, keyed as that
  spec's libraries key it: the secret without its ``whsec_`` prefix, base64-decoded
  (:func:`standard_webhook_key`), so a receiver hands the key's secret to the
  ``standardwebhooks`` package unchanged.

Timestamps are part of the signed text so a receiver can refuse replays.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Lumagate-Signature"
WEBHOOK_SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


def generate_webhook_secret() -> str:
    return WEBHOOK_SECRET_PREFIX + secrets.token_hex(32)


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def standard_webhook_key(secret: str) -> bytes:
    """The HMAC key Standard Webhooks libraries derive from ``secret``: the text after
    ``whsec_``, base64-decoded leniently as the reference Python library does (padding added,
    characters outside the alphabet skipped). Our secrets are ``whsec_`` + 64 hex digits, which
    are base64 text: 48 key bytes. A secret that decodes to nothing is keyed by its UTF-8 text."""
    body = secret.removeprefix(WEBHOOK_SECRET_PREFIX)
    try:
        key = base64.b64decode(body + "==")
    except (binascii.Error, ValueError):
        key = b""
    return key or secret.encode("utf-8")


def standard_webhook_headers(
    secret: str, message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` for ``body``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(standard_webhook_key(secret), signed, hashlib.sha256).digest()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(mac).decode("ascii"),
    }


def parse_signature(header: str) -> tuple[int, list[str]]:
    """``(t, [v1 values])``; raises ValueError when the header is malformed."""
    timestamp: int | None = None
    macs: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise ValueError("malformed signature header")
        if name == "t":
            timestamp = int(value)
        elif name == "v1":
            macs.append(value)
    if timestamp is None or not macs:
        raise ValueError("signature header needs t= and v1=")
    return timestamp, macs


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True if one ``v1`` matches (constant time) and, given ``now``, ``t`` is recent enough."""
    try:
        timestamp, macs = parse_signature(header)
    except ValueError:
        return False
    if now is not None and abs(now - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body).encode("ascii")
    return any(hmac.compare_digest(expected, m.encode("ascii", "replace")) for m in macs)
