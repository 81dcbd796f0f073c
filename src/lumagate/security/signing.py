"""Callback signatures: ``X-Lumagate-Signature: t=<unix>,v1=<hex HMAC-SHA256("<t>.<body>")>``.

The timestamp is part of the signed text so a receiver can refuse replays (compare ``t`` with
its clock). :func:`verify_signature` is what a receiver does; the gateway's tests use it too.
"""

from __future__ import annotations

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
