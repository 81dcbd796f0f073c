"""Encryption at rest for upstream credentials and webhook secrets (Fernet from cryptography).

The key comes from ``LUMAGATE_SECRET_KEY`` (a Fernet key) or from ``<data dir>/secret.key``,
generated with mode 0600 on first use. Losing that file makes stored credentials unreadable,
so back it up with the database.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._key = key

    def derive(self, purpose: str) -> bytes:
        """A key for ``purpose`` (e.g. signing media links), the same on every replica."""
        return hmac.new(self._key, b"lumagate:" + purpose.encode("utf-8"), hashlib.sha256).digest()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
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
        key = Fernet.generate_key()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key)
        finally:
            os.close(fd)
    return SecretBox(path.read_bytes().strip())
