"""The operator's part of the composition root: key and account administration over stores.

What ``lumagate keys`` and ``lumagate accounts`` need and no more, so those commands start
without the engine, the providers, HTTP clients or FastAPI. The server builds the same two
services (with a dispatcher wake-up) in :mod:`lumagate.wiring.services`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from lumagate.service.keys import KeyAdmin
from lumagate.wiring.stores import Stores

if TYPE_CHECKING:  # the account commands import it; ``keys`` never needs the account store
    from lumagate.service.account_admin import AccountAdmin


def key_admin(stores: Stores) -> KeyAdmin:
    return KeyAdmin(stores.keys, stores.ledger, stores.box)


def account_admin(
    stores: Stores, on_pool_changed: Callable[[], None] | None = None
) -> AccountAdmin:
    from lumagate.service.account_admin import AccountAdmin

    return AccountAdmin(stores.accounts, stores.pool, on_pool_changed)
