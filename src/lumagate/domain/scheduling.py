"""Which upstream account serves a task: pure policy, no I/O.

Rules: only enabled accounts that serve the task's channel are eligible; a task pinned to an
account (an extend must run where its source was made) can only go there; real accounts are
preferred and the sandbox serves only while no real account is eligible (unless configured to
always serve); among the eligible, accounts cooling down after a 429 or at their concurrency
limit are skipped, and the least-loaded of the rest is chosen. An account this replica cannot
call (a kind only a newer version knows) counts as eligible, so a task it could serve is never
hopeless, but is never chosen here: a replica that knows its kind takes the task.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from lumagate.domain.channels import Channel

SANDBOX_KIND = "sandbox"


@dataclass
class AccountSlot:
    id: str
    kind: str
    channels: tuple[Channel, ...]
    enabled: bool
    max_concurrency: int
    running: int
    cooldown_until: datetime | None = None

    def cooling(self, now: datetime) -> bool:
        return self.cooldown_until is not None and self.cooldown_until > now

    @property
    def free(self) -> int:
        return max(0, self.max_concurrency - self.running)


@dataclass(frozen=True)
class Choice:
    """``account_id`` to use now; or ``None`` with ``hopeless`` when no account could ever serve."""

    account_id: str | None
    hopeless: bool = False
    unable: bool = False  # hopeless because no eligible account can deliver what was asked


def eligible_accounts(
    channel: Channel,
    accounts: Sequence[AccountSlot],
    *,
    pinned_account_id: str | None = None,
    sandbox_always: bool = False,
) -> list[AccountSlot]:
    eligible = [a for a in accounts if a.enabled and channel in a.channels]
    if pinned_account_id is not None:
        return [a for a in eligible if a.id == pinned_account_id]
    if sandbox_always:
        return eligible
    real = [a for a in eligible if a.kind != SANDBOX_KIND]
    return real or [a for a in eligible if a.kind == SANDBOX_KIND]


def choose_account(
    channel: Channel,
    accounts: Sequence[AccountSlot],
    now: datetime,
    *,
    pinned_account_id: str | None = None,
    sandbox_always: bool = False,
    can_serve: Callable[[AccountSlot], bool] | None = None,
    callable_here: Callable[[AccountSlot], bool] | None = None,
) -> Choice:
    """``can_serve`` narrows the eligible accounts to those able to deliver the task; it applies
    after the real-before-sandbox rule, so a request no real account can deliver never falls
    back to the sandbox. ``callable_here`` says which accounts this replica can call; the
    others stay eligible but are never chosen."""
    pool = eligible_accounts(
        channel, accounts, pinned_account_id=pinned_account_id, sandbox_always=sandbox_always
    )
    if not pool:
        return Choice(None, hopeless=True)
    if can_serve is not None:
        pool = [a for a in pool if can_serve(a)]
        if not pool:
            return Choice(None, hopeless=True, unable=True)
    ready = [
        a
        for a in pool
        if a.free > 0 and not a.cooling(now) and (callable_here is None or callable_here(a))
    ]
    if not ready:
        return Choice(None)
    best = min(ready, key=lambda a: (a.running / a.max_concurrency, a.running, a.id))
    return Choice(best.id)


def no_account_reason(channel: Channel, pinned: bool) -> str:
    if pinned:
        return "The upstream account that made the source video is no longer available"
    return f"No upstream account available for channel {channel.value}"
