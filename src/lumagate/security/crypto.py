"""Encryption at rest for upstream credentials and webhook secrets (Fernet from cryptography).

The key comes from ``LUMAGATE_SECRET_KEY`` (a Fernet key) or from ``<data dir>/secret.key``,
generated with mode 0600 on first use. Losing that file makes stored credentials unreadable,
so back it up with the database.

cryptography (its Rust and OpenSSL binding: ~8.7 MiB of RSS) is imported when something is first
sealed or opened, not when the server starts: a server that has not dispatched a task or sent a
callback yet has no secret to read. The key is still checked at construction, with Fernet's own
rule and words, so a bad ``LUMAGATE_SECRET_KEY`` stops the start-up as before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

BAD_KEY = "Fernet key must be 32 url-safe base64-encoded bytes."  # cryptography's own words


def check_fernet_key(key: bytes) -> None:
    """Raise ``ValueError`` as ``Fernet(key)`` would, without loading cryptography."""
    try:
        raw = base64.urlsafe_b64decode(key)
    except binascii.Error as exc:
        raise ValueError(BAD_KEY) from exc
    if len(raw) != 32:
        raise ValueError(BAD_KEY)


class SecretBox:
    """Seals and opens the secrets kept in the database; derives the per-purpose keys."""

    def __init__(self, key: bytes) -> None:
        check_fernet_key(key)
        self._key = key
        self._sealer: Fernet | None = None

    @property
    def _fernet(self) -> Fernet:
        if self._sealer is None:
            from cryptography.fernet import Fernet

            self._sealer = Fernet(self._key)
        return self._sealer

    def derive(self, purpose: str) -> bytes:
        """A key for ``purpose`` (e.g. signing media links), the same on every replica."""
        return hmac.new(self._key, b"lumagate:" + purpose.encode("utf-8"), hashlib.sha256).digest()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise ValueError(
                "stored secret cannot be decrypted: LUMAGATE_SECRET_KEY or secret.key changed"
            ) from exc


def load_secret_box(data_dir: Path, configured_key: str | None) -> SecretBox:
    if configured_key:
        return SecretBox(configured_key.encode("ascii"))
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key = base64.urlsafe_b64encode(os.urandom(32))  # what Fernet.generate_key() returns
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key)
        finally:
            os.close(fd)
    return SecretBox(path.read_bytes().strip())
