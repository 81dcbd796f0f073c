"""API key material: generation, hashing for storage, and the exact Authorization parsing rules.

Keys carry 256 bits of randomness, so a plain SHA-256 digest is a safe storage form (no
brute force is feasible) and lets the store find a key by an indexed lookup. The digest found
is compared again in constant time before it is trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "sk-lg-"
DISPLAY_PREFIX_LENGTH = 10


def generate_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def display_prefix(key: str) -> str:
    return key[:DISPLAY_PREFIX_LENGTH]


def digests_match(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))


def parse_bearer(header_value: str | None) -> str | None:
    """Strip the literal ``Bearer `` prefix exactly once; never a character-set trim."""
    if header_value is None:
        return None
    prefix = "Bearer "
    if not header_value.startswith(prefix):
        return None
    token = header_value[len(prefix) :]
    return token or None


def parse_authorization(header_value: str | None) -> str | None:
    """A tenant's key from ``Authorization``: ``Bearer <key>`` parsed exactly as
    :func:`parse_bearer`, or else the whole value as a bare key (``Authorization: <key>``, as
    clients of the Go project that defined ``/luma/*`` send it). Nothing is trimmed either way."""
    if header_value is None:
        return None
    if header_value.startswith("Bearer "):
        return parse_bearer(header_value)
    return header_value or None


def generate_secret(nbytes: int = 32) -> str:
    return secrets.token_hex(nbytes)
