"""What each upstream kind can deliver, and the optional abilities the engine uses.

**Deliverables** (the single source): :data:`KIND_CAPABILITIES` says, per account kind, which
models it can be told, which resolutions and durations each model really renders, and whether it
honours ``loop`` and an end frame. The task service checks a create against the accounts of its
channel (refuse with a 400 naming the field, or degrade when the operator allows it), and the
dispatcher hands a task only to an account whose kind can deliver it — so a web session is never
sent a 1080p/9s request it would silently render at 720p/5s (UPSTREAM.md §2). ``concepts`` and
``expand_prompt`` are hints, not deliverables: they are dropped and recorded (``dropped_fields``).

**Optional abilities**: some kinds can do more than the core
:class:`~lumagate.providers.base.Provider` protocol: keep a session alive and report account
capacity (the upkeep loop calls :meth:`Maintained.maintain`), read an upstream's own callback
body (:meth:`CallbackAware.job_from_callback`) so a progress callback costs no upstream call, or
stop a generation the gateway no longer wants (:meth:`Cancellable.cancel`: the engine's cancel loop
calls it for cancelled and timed-out tasks; a kind without it lets the generation run and its
result is discarded).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from lumagate.domain import messages as msg
from lumagate.domain.accounts import AccountHandle
from lumagate.domain.channels import Channel
from lumagate.domain.request import GenerationRequest
from lumagate.domain.video import DURATIONS, MODELS, RESOLUTIONS
from lumagate.providers.base import UpstreamJob

ALL_RESOLUTIONS: tuple[str, ...] = tuple(RESOLUTIONS)
ALL_DURATIONS: tuple[str, ...] = tuple(DURATIONS)


@dataclass(frozen=True)
class ModelReach:
    """The resolutions and durations one model really renders on one kind of account."""

    resolutions: tuple[str, ...] = ALL_RESOLUTIONS
    durations: tuple[str, ...] = ALL_DURATIONS


FULL = ModelReach()
FIXED_720P_5S = ModelReach(resolutions=("720p",), durations=("5s",))


@dataclass(frozen=True)
class KindCapabilities:
    """What an account kind can deliver; the first model is the one it renders when degraded."""

    models: Mapping[str, ModelReach]
    loop: bool = True
    end_frame: bool = True


KIND_CAPABILITIES: Mapping[str, KindCapabilities] = {
    # The official API takes every model; ray-1-6 takes neither resolution nor duration.
    "luma-official": KindCapabilities(
        {"ray-2": FULL, "ray-flash-2": FULL, "ray-1-6": FIXED_720P_5S}
    ),
    # The web app is told neither model, resolution nor duration: it renders ray-2 at 720p, 5 s.
    "luma-web": KindCapabilities({"ray-2": FIXED_720P_5S}),
    # A relay speaks the reseller dialect, which carries every field on to its own upstreams.
    "relay": KindCapabilities({model: FULL for model in MODELS}),
    # The sandbox renders any size and length locally.
    "sandbox": KindCapabilities({model: FULL for model in MODELS}),
}
UNKNOWN_KIND = KindCapabilities({model: FULL for model in MODELS})


def capabilities_for(kind: str) -> KindCapabilities:
    return KIND_CAPABILITIES.get(kind, UNKNOWN_KIND)


@dataclass(frozen=True)
class Shortfall:
    """One asked-for value an account kind cannot deliver, and what it delivers instead."""

    field: str
    asked: str | bool
    delivered: str | bool | None
    limit: msg.Text  # e.g. "at most 720p", for the 400's message


def _rank(value: str, order: Sequence[str]) -> int:
    return list(order).index(value) if value in order else -1


def _closest(asked: str, offered: tuple[str, ...], order: Sequence[str]) -> str:
    """The largest offered value not above ``asked``, else the smallest offered."""
    ranked = sorted(offered, key=lambda value: _rank(value, order))
    below = [value for value in ranked if _rank(value, order) <= _rank(asked, order)]
    return below[-1] if below else ranked[0]


def _limit(offered: tuple[str, ...], order: Sequence[str]) -> msg.Text:
    ranked = sorted(offered, key=lambda value: _rank(value, order))
    if len(ranked) == 1:
        return msg.LIMIT_AT_MOST(value=ranked[0])
    return msg.LIMIT_ONE_OF(values=", ".join(ranked))


def shortfalls(kind: str, request: GenerationRequest) -> tuple[Shortfall, ...]:
    """What ``request`` asks that an account of ``kind`` cannot deliver (empty: it can)."""
    caps = capabilities_for(kind)
    found: list[Shortfall] = []
    model = request.model
    if model not in caps.models:
        model = next(iter(caps.models))
        found.append(
            Shortfall("model", request.model, model, msg.LIMIT_USE(values=", ".join(caps.models)))
        )
    reach = caps.models[model]
    for field, asked, offered, order in (
        ("resolution", request.resolution, reach.resolutions, ALL_RESOLUTIONS),
        ("duration", request.duration, reach.durations, ALL_DURATIONS),
    ):
        if asked not in offered:
            closest = _closest(asked, offered, order)
            found.append(Shortfall(field, asked, closest, _limit(offered, order)))
    if request.loop and not caps.loop:
        found.append(Shortfall("loop", True, False, msg.LIMIT_NO_LOOP()))
    if request.end_image is not None and not caps.end_frame:
        found.append(Shortfall("end_image", "an end frame", None, msg.LIMIT_NO_END_FRAME()))
    return tuple(found)


def can_deliver(kind: str, request: GenerationRequest) -> bool:
    return not shortfalls(kind, request)


def nearest_kind(kinds: Sequence[str], request: GenerationRequest) -> str | None:
    """Of ``kinds``, the one that falls short of ``request`` in the fewest fields (first wins)."""
    return min(kinds, key=lambda kind: len(shortfalls(kind, request)), default=None)


def degraded(request: GenerationRequest, found: Sequence[Shortfall]) -> GenerationRequest:
    """``request`` as it will really be delivered: each shortfall replaced by what is delivered,
    the asked values kept in ``requested`` and the fields listed in ``dropped_fields``."""
    update: dict[str, Any] = {s.field: s.delivered for s in found}
    asked = {**request.requested, **{s.field: s.asked for s in found}}
    dropped = tuple(dict.fromkeys((*request.dropped_fields, *(s.field for s in found))))
    return request.model_copy(update={**update, "requested": asked, "dropped_fields": dropped})


def refusal(found: tuple[Shortfall, ...], channel: Channel, names: dict[str, str]) -> msg.Text:
    """One sentence per field that cannot be delivered, e.g. ``resolution 1080p is not available
    on channel vip: at most 720p``."""
    parts = [
        msg.NOT_DELIVERABLE(
            field=names.get(s.field, s.field),
            asked=str(s.asked).lower() if isinstance(s.asked, bool) else s.asked,
            channel=channel.value,
            limit=s.limit,
        )
        for s in found
    ]
    text = parts[-1]
    for part in reversed(parts[:-1]):
        text = msg.JOINED(first=part, rest=text)
    return text


def undeliverable(kinds: Sequence[str], request: GenerationRequest, channel: Channel) -> msg.Text:
    """Why none of ``kinds`` can deliver ``request`` (from the nearest of them)."""
    nearest = nearest_kind(kinds, request)
    found = shortfalls(nearest, request) if nearest is not None else ()
    if not found:
        return msg.NO_ACCOUNT_FOR_CHANNEL(channel=channel.value)
    return refusal(found, channel, {})


@runtime_checkable
class Maintained(Protocol):
    async def maintain(self, account: AccountHandle) -> Mapping[str, Any]:
        """Keep the account's session alive; returns account settings to store (may be empty).

        Raises ``AuthenticationFailed`` when the session is dead.
        """
        ...


@runtime_checkable
class CallbackAware(Protocol):
    def job_from_callback(self, payload: Any) -> UpstreamJob | None:
        """What an upstream callback body says, or None if it is not understood."""
        ...


@runtime_checkable
class Cancellable(Protocol):
    async def cancel(self, account: AccountHandle, upstream_id: str) -> None:
        """Stop (and forget) the upstream generation; an id the upstream no longer knows is
        done too. Raises a ``ProviderError`` when the upstream could not be asked (retried)."""
        ...
