"""Optional provider abilities the engine uses when a provider has them.

The core :class:`~lumagate.providers.base.Provider` protocol is what every upstream kind must
do. Some kinds can do more: keep a session alive and report account capacity (the upkeep loop
calls :meth:`Maintained.maintain`), or read an upstream's own callback body
(:meth:`CallbackAware.job_from_callback`) so a progress callback costs no upstream call, or stop
a generation the gateway no longer wants (:meth:`Cancellable.cancel`: the engine's cancel loop
calls it for cancelled and timed-out tasks; a kind without it lets the generation run and its
result is discarded).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from lumagate.domain.accounts import AccountHandle
from lumagate.providers.base import UpstreamJob


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
