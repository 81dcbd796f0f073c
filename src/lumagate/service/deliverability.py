"""Honest creates: a task is accepted only if an account of its channel can deliver it.

The accounts that would serve the task (the dispatcher's own eligibility rule: enabled, in the
channel, real before sandbox, the source's account for an extend) are checked against
:mod:`lumagate.providers.capabilities`. When none of them can deliver what was asked, the create
is refused with a 400 naming the first field — or, when the operator set
``LUMAGATE_DEGRADE_TO_DELIVERABLE``, accepted at what the nearest account kind really delivers:
the stored request then carries the delivered values (so every dialect shows them and the price
is theirs), what was asked in ``requested`` and the fields in ``dropped_fields``. With no
eligible account at all nothing is decided here: the dispatcher fails such a task as before.

A request that every known account kind (and an unknown kind, which takes everything) can
deliver needs no look at the accounts: whichever of them are eligible, the answer is the request
itself. Most creates are such requests, so they cost no read of the accounts table.
"""

from __future__ import annotations

from typing import Protocol

from lumagate.domain.accounts import Account
from lumagate.domain.channels import Channel
from lumagate.domain.errors import InvalidRequest
from lumagate.domain.request import GenerationRequest
from lumagate.domain.scheduling import eligible_accounts
from lumagate.providers.capabilities import (
    KIND_CAPABILITIES,
    can_deliver,
    degraded,
    nearest_kind,
    refusal,
)
from lumagate.providers.capabilities import shortfalls as shortfalls_of


class AccountList(Protocol):
    """Every upstream account, enabled or not (``AccountStore.all``)."""

    async def all(self) -> list[Account]: ...


class Deliverability:
    """Checks (and, when allowed, degrades) a new task's request against its channel's accounts."""

    def __init__(
        self, accounts: AccountList, *, degrade: bool = False, sandbox_always: bool = False
    ) -> None:
        self.accounts = accounts
        self.degrade = degrade
        self.sandbox_always = sandbox_always

    async def check(
        self,
        request: GenerationRequest,
        channel: Channel,
        *,
        pinned: str | None = None,
        field_names: dict[str, str] | None = None,
    ) -> GenerationRequest:
        """``request`` if it can be delivered, else its degraded form or a 400."""
        if all(can_deliver(kind, request) for kind in KIND_CAPABILITIES):
            return request  # deliverable whatever the pool holds (see the module docstring)
        slots = [account.slot(0) for account in await self.accounts.all()]
        pool = eligible_accounts(
            channel, slots, pinned_account_id=pinned, sandbox_always=self.sandbox_always
        )
        kinds = list(dict.fromkeys(slot.kind for slot in pool))
        if not kinds or any(can_deliver(kind, request) for kind in kinds):
            return request
        nearest = nearest_kind(kinds, request)
        assert nearest is not None
        found = shortfalls_of(nearest, request)
        if self.degrade:
            return degraded(request, found)
        names = field_names or {}
        raise InvalidRequest(
            refusal(found, channel, names), field=names.get(found[0].field, found[0].field)
        )
