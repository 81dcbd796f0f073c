"""The key of the ``/admin`` API: from ``LUMAGATE_ADMIN_KEY``, or generated once into
``<data dir>/admin.key`` (mode 0600) on the first start.

Only a digest is kept in memory for comparisons, and presented keys are compared with
:func:`hmac.compare_digest` over digests, so timing says nothing about the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

ADMIN_KEY_FILE = "admin.key"
ADMIN_KEY_PREFIX = "sk-lg-admin-"


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


class AdminKey:
    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("the admin key must not be empty")
        self._digest = _digest(key)

    def matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(self._digest, _digest(presented))

    def derive(self, purpose: str) -> bytes:
        """A 32-byte secret for ``purpose`` bound to this key (e.g. console session sealing).

        Every replica with the same admin key derives the same secret; changing the key
        invalidates whatever was sealed with the old one.
        """
        return hmac.new(self._digest, purpose.encode("utf-8"), hashlib.sha256).digest()


def load_or_create_admin_key(
    data_dir: Path, configured: str | None
) -> tuple[AdminKey, Path | None]:
    """The admin key, and the file it lives in when it was not configured."""
    if configured:
        return AdminKey(configured), None
    path = data_dir / ADMIN_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key = ADMIN_KEY_PREFIX + secrets.token_urlsafe(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            pass
        else:
            try:
                os.write(fd, key.encode("ascii"))
            finally:
                os.close(fd)
    return AdminKey(path.read_text(encoding="ascii").strip()), path
