"""Idempotency as Stripe's: one key names one request; a replay gets the first answer.

``Idempotency-Key`` makes a create safe to retry: the same key with the same request answers
the task it first made (for 24 hours). The same key with a different request is a client bug
(two requests sharing a key), so it is refused with a 409 naming what differs (the dialect,
the channel, or the body) rather than silently answering a task that is not the one asked for.

"The same request" is judged on the normalized request (:class:`GenerationRequest` after
defaults, aliases and image storage), so ``"5s"`` and ``5``, or an image sent once as a URL
and once as the same bytes, are the same request.
"""

from __future__ import annotations

import hashlib
import json

from lumagate.domain.channels import Channel
from lumagate.domain.errors import GatewayError
from lumagate.domain.request import GenerationRequest
from lumagate.domain.task import Task


class IdempotencyConflict(GatewayError):
    """409: the Idempotency-Key was first used with another request."""

    status = 409
    code = "idempotency_key_reused"


def fingerprint(
    request: GenerationRequest, *, channel: Channel, dialect: str, notify_url: str | None
) -> str:
    """SHA-256 (hex) of everything that makes a create what it is, in a canonical form."""
    canonical = json.dumps(
        {
            "channel": channel.value,
            "dialect": dialect,
            "request": request.model_dump(mode="json"),
            "notify_url": notify_url,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def check_replay(
    earlier: Task,
    stored_fingerprint: str | None,
    *,
    channel: Channel,
    dialect: str,
    new_fingerprint: str,
) -> None:
    """Raise :class:`IdempotencyConflict` unless the request repeats the one that made
    ``earlier``. Tasks stored before fingerprints existed (None) accept any replay."""
    if stored_fingerprint is None or stored_fingerprint == new_fingerprint:
        return
    if earlier.dialect != dialect:
        what = f"in another dialect ({earlier.dialect}, this request is {dialect})"
    elif earlier.channel != channel:
        what = f"on another channel ({earlier.channel.value}, this request is {channel.value})"
    else:
        what = "with a different request body"
    raise IdempotencyConflict(
        f"This Idempotency-Key was already used {what} for task {earlier.id}; "
        "use a new key for a new request",
        field="Idempotency-Key",
    )
