"""A stable number for a string id, for clients whose types want an integer id.

new-api's Go ``TaskDto`` declares ``id int64`` (and ``user_id int``) while the gateway's ids are
UUID strings. The number is the first 53 bits of the id's SHA-256: stable (the same id always
gives the same number, on every replica, with no counter to share), positive, and at most
2^53 - 1 so JavaScript front ends read it exactly too. The store keeps it in an indexed
column (migration 0008) so a task can be read by its number.
"""

from __future__ import annotations

import hashlib

BITS = 53
MASK = (1 << BITS) - 1


def numeric_id(text: str) -> int:
    """1 … 2^53 - 1 derived from ``text`` (0 is never given: Go's zero value means "none")."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return (int.from_bytes(digest[:8], "big") & MASK) or 1
