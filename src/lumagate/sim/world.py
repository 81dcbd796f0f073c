"""The sim's memory: generations and their timeline, the create ledger, limits and statistics.

Both API surfaces share this one in-memory world so limits, the ledger and ``/_sim/stats`` see
every create, whichever dialect made it. It holds no I/O and no randomness: callers pass the
clock in, which keeps the timeline easy to reason about and to test.
"""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Surface = Literal["official", "web"]
Kind = Literal["create", "extend"]
Phase = Literal["queued", "dreaming", "completed", "failed"]
Rejection = Literal["concurrency", "rate"]

TERMINAL: tuple[Phase, ...] = ("completed", "failed")
MODERATION_FAILURE = "Advanced prompt moderation failed"
RATE_WINDOW_SECONDS = 60.0


def iso_now() -> str:
    """The current UTC time the way Luma writes it: ISO 8601 with milliseconds and ``Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class SimGeneration:
    """One generation as the sim tracks it; the views render it in either dialect."""

    id: str
    seq: int
    credential: str
    surface: Surface
    kind: Kind
    prompt: str
    aspect_ratio: str
    resolution: str
    duration: str
    model: str
    loop: bool
    request: dict[str, Any]
    base_url: str
    started: float
    queued_seconds: float
    dreaming_seconds: float
    moderated: bool
    created_at: str = field(default_factory=iso_now)
    callback_url: str | None = None
    source_id: str | None = None
    cost_cents: int = 0
    state: Phase = "queued"
    failure_reason: str | None = None
    null_video_polls: int = 0

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    def phase_at(self, now: float) -> Phase:
        """The state this generation should be in at monotonic time ``now``."""
        elapsed = now - self.started
        if elapsed < self.queued_seconds:
            return "queued"
        if self.moderated:
            return "failed"
        if elapsed < self.queued_seconds + self.dreaming_seconds:
            return "dreaming"
        return "completed"

    def next_change(self) -> float | None:
        """The monotonic time of this generation's next phase change (None once it ended)."""
        if self.terminal:
            return None
        if self.state == "queued":
            return self.started + self.queued_seconds
        return self.started + self.queued_seconds + self.dreaming_seconds

    def seconds_left(self, now: float) -> float:
        if self.terminal:
            return 0.0
        return max(0.0, self.started + self.queued_seconds + self.dreaming_seconds - now)


@dataclass
class CredentialStats:
    """What ``/_sim/stats`` reports for one credential."""

    max_running: int = 0
    running: int = 0
    creates: int = 0
    rate_limited: int = 0
    unauthorized: int = 0
    foreign_images: int = 0
    requests: int = 0
    routes: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def count_request(self, route: str) -> None:
        """One API request reached a route (``"GET /dream-machine/v1/generations"``)."""
        self.requests += 1
        self.routes[route] = self.routes.get(route, 0) + 1


@dataclass(frozen=True)
class LedgerEntry:
    """One create the sim accepted (answered or not)."""

    credential: str
    surface: Surface
    generation_id: str
    request: dict[str, Any]
    time: str
    kind: Kind

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Transition:
    """A generation entered ``state`` (states skipped by a late tick are reported in order)."""

    generation: SimGeneration
    state: Phase


class World:
    """All mutable sim state. Methods never await, so each call is atomic on the event loop."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything (``POST /_sim/reset``)."""
        self.generations: dict[str, SimGeneration] = {}
        self.ledger: list[LedgerEntry] = []
        self.stats: dict[str, CredentialStats] = {}
        self._order: dict[str, list[str]] = {}
        self._windows: dict[str, deque[float]] = {}
        self._active: dict[str, SimGeneration] = {}
        self._spent_cents: dict[str, int] = {}
        self._web_used: dict[str, int] = {}
        self._seq = 0

    # ----- limits and statistics -------------------------------------------------------------

    def stats_for(self, credential: str) -> CredentialStats:
        return self.stats.setdefault(credential, CredentialStats())

    def note_unauthorized(self, credential: str) -> None:
        self.stats_for(credential).unauthorized += 1

    def note_foreign_images(self, credential: str, count: int) -> None:
        if count:
            self.stats_for(credential).foreign_images += count

    def admit(
        self, credential: str, now: float, max_concurrency: int, per_minute: int
    ) -> Rejection | None:
        """Check both limits for a new create; a rejection is counted as ``rate_limited``."""
        stats = self.stats_for(credential)
        rejection: Rejection | None = None
        if stats.running >= max_concurrency:
            rejection = "concurrency"
        else:
            window = self._windows.setdefault(credential, deque())
            while window and window[0] <= now - RATE_WINDOW_SECONDS:
                window.popleft()
            if len(window) >= per_minute:
                rejection = "rate"
        if rejection is not None:
            stats.rate_limited += 1
        return rejection

    def new_generation_id(self) -> str:
        return str(uuid.uuid4())

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def record(self, generation: SimGeneration) -> None:
        """Accept a create: store it, write the ledger, count it against the limits."""
        cred = generation.credential
        self.generations[generation.id] = generation
        self._order.setdefault(cred, []).append(generation.id)
        self._active[generation.id] = generation
        self._windows.setdefault(cred, deque()).append(generation.started)
        if generation.surface == "official":
            self._spent_cents[cred] = self._spent_cents.get(cred, 0) + generation.cost_cents
        else:
            self._web_used[cred] = self._web_used.get(cred, 0) + 1
        stats = self.stats_for(cred)
        stats.creates += 1
        stats.running += 1
        stats.max_running = max(stats.max_running, stats.running)
        self.ledger.append(
            LedgerEntry(
                credential=cred,
                surface=generation.surface,
                generation_id=generation.id,
                request=generation.request,
                time=generation.created_at,
                kind=generation.kind,
            )
        )

    # ----- accounting ------------------------------------------------------------------------

    def credits_left(self, credential: str, initial_cents: int) -> int:
        return initial_cents - self._spent_cents.get(credential, 0)

    def web_used(self, credential: str) -> int:
        return self._web_used.get(credential, 0)

    # ----- lookups ---------------------------------------------------------------------------

    def get(self, credential: str, generation_id: str, surface: Surface) -> SimGeneration | None:
        """A generation visible to ``credential`` on ``surface`` (ids never cross accounts)."""
        found = self.generations.get(generation_id)
        if found is None or found.credential != credential or found.surface != surface:
            return None
        return found

    def page(
        self, credential: str, surface: Surface, offset: int, limit: int
    ) -> tuple[list[SimGeneration], int]:
        """Newest first: one page and the total count."""
        ids = [
            gid
            for gid in reversed(self._order.get(credential, []))
            if self.generations[gid].surface == surface
        ]
        return [self.generations[gid] for gid in ids[offset : offset + limit]], len(ids)

    def delete(self, credential: str, generation_id: str) -> bool:
        found = self.get(credential, generation_id, "official")
        if found is None:
            return False
        del self.generations[generation_id]
        self._order[credential].remove(generation_id)
        if self._active.pop(generation_id, None) is not None:
            self.stats_for(credential).running -= 1
        return True

    # ----- the timeline ----------------------------------------------------------------------

    def advance(self, now: float) -> list[Transition]:
        """Move every running generation to where the clock says it is; report each change."""
        transitions: list[Transition] = []
        for gid, generation in list(self._active.items()):
            target = generation.phase_at(now)
            if target == generation.state:
                continue
            if generation.state == "queued" and target == "completed":
                transitions.append(Transition(generation, "dreaming"))
            generation.state = target
            if target == "failed":
                generation.failure_reason = MODERATION_FAILURE
                self._refund(generation)
            transitions.append(Transition(generation, target))
            if generation.terminal:
                del self._active[gid]
                self.stats_for(generation.credential).running -= 1
        return transitions

    def next_change(self) -> float | None:
        """The earliest next phase change of any running generation (monotonic seconds)."""
        times = (g.next_change() for g in self._active.values())
        return min((t for t in times if t is not None), default=None)

    def _refund(self, generation: SimGeneration) -> None:
        cred = generation.credential
        if generation.surface == "official":
            self._spent_cents[cred] = self._spent_cents.get(cred, 0) - generation.cost_cents
        else:
            self._web_used[cred] = max(0, self._web_used.get(cred, 0) - 1)
