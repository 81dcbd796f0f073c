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

from lumagate.domain import messages as msg
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
            "request": _canonical_request(request),
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
        what = msg.REUSED_IN_DIALECT(first=earlier.dialect, this=dialect)
    elif earlier.channel != channel:
        what = msg.REUSED_ON_CHANNEL(first=earlier.channel.value, this=channel.value)
    else:
        what = msg.REUSED_WITH_BODY()
    raise IdempotencyConflict(
        msg.IDEMPOTENCY_KEY_REUSED(what=what, task=earlier.id), field="Idempotency-Key"
    )


def _canonical_request(request: GenerationRequest) -> dict[str, object]:
    """The request as fingerprinted; ``requested`` (set only when degrading, after the
    fingerprint) is left out so fingerprints stored before it existed still match."""
    dumped: dict[str, object] = request.model_dump(mode="json")
    if not request.requested:
        dumped.pop("requested", None)
    return dumped
