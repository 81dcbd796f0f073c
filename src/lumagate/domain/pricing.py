"""Prices of generations in credits: channel x model x resolution x duration (pure, no I/O).

A price is ``ceil(base[model] * resolution[res] * duration[dur] * channel[ch])`` unless an
override names the combination. Overrides are keyed ``"<channel>/<model>/<resolution>/<duration>"``
where any part may be ``*``; the most specific matching override wins (fewest ``*``; on a tie the
one whose first non-wildcard part comes earliest). The defaults below are documented in
docs/billing-and-callbacks.md; every value can be replaced from settings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

# Credits of one ray-2, 720p, 5 s generation on the default channel is the reference: 100.
DEFAULT_BASE: dict[str, int] = {"ray-2": 100, "ray-flash-2": 35, "ray-1-6": 50}
# Roughly the pixel count relative to 720p (the upstream charges by pixels).
DEFAULT_RESOLUTION: dict[str, float] = {"540p": 0.6, "720p": 1.0, "1080p": 2.25, "4k": 9.0}
DEFAULT_DURATION: dict[str, float] = {"5s": 1.0, "9s": 1.8}
# vip and pro buy priority and paid (watermark-free) accounts.
DEFAULT_CHANNEL: dict[str, float] = {"default": 1.0, "vip": 1.5, "pro": 2.0}

WILDCARD = "*"


class PricingError(ValueError):
    """A price table that cannot be used (negative values, malformed override keys)."""


@dataclass(frozen=True)
class PriceQuote:
    """What a generation costs and how the number was reached (for the ledger note)."""

    credits: int
    rule: str


def _override_parts(key: str) -> tuple[str, str, str, str]:
    parts = tuple(p.strip().lower() for p in key.split("/"))
    if len(parts) != 4 or not all(parts):
        raise PricingError(
            f"price override {key!r} must look like 'channel/model/resolution/duration' "
            "(use * for any)"
        )
    return parts[0], parts[1], parts[2], parts[3]


@dataclass(frozen=True)
class PriceTable:
    base: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_BASE))
    resolution: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RESOLUTION))
    duration: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_DURATION))
    channel: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CHANNEL))
    overrides: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, table in (
            ("base", self.base),
            ("resolution", self.resolution),
            ("duration", self.duration),
            ("channel", self.channel),
            ("overrides", self.overrides),
        ):
            for key, value in table.items():
                if value < 0:
                    raise PricingError(f"price {name}[{key!r}] is negative")
        for key in self.overrides:
            _override_parts(key)

    def quote(self, channel: str, model: str, resolution: str, duration: str) -> PriceQuote:
        wanted = (channel.lower(), model.lower(), resolution.lower(), duration.lower())
        override = self._best_override(wanted)
        if override is not None:
            return PriceQuote(int(self.overrides[override]), f"override {override}")
        base = self.base.get(model, max(self.base.values(), default=0))
        factor = (
            self.resolution.get(resolution, 1.0)
            * self.duration.get(duration, 1.0)
            * self.channel.get(channel, 1.0)
        )
        # Round up, but not a float artefact (100 * 1.8 * 1.5 is 270.00000000000006).
        credits = math.ceil(round(base * factor, 6))
        return PriceQuote(credits, f"{base} x {factor:g}")

    def price(self, channel: str, model: str, resolution: str, duration: str) -> int:
        return self.quote(channel, model, resolution, duration).credits

    def _best_override(self, wanted: tuple[str, str, str, str]) -> str | None:
        best: tuple[int, tuple[int, ...], str] | None = None
        for key in self.overrides:
            parts = _override_parts(key)
            if not all(p in (WILDCARD, w) for p, w in zip(parts, wanted, strict=True)):
                continue
            wildcards = sum(p == WILDCARD for p in parts)
            rank = (wildcards, tuple(int(p == WILDCARD) for p in parts), key)
            if best is None or rank < best:
                best = rank
        return None if best is None else best[2]
