"""The operator's part of the composition root: key and account administration over stores.

What ``lumagate keys`` and ``lumagate accounts`` need and no more, so those commands start
without the engine, the providers, HTTP clients or FastAPI. The server builds the same two
services (with a dispatcher wake-up) in :mod:`lumagate.wiring.services`.
"""

from __future__ import annotations

from collections.abc import Callable

from lumagate.service.account_admin import AccountAdmin
from lumagate.service.keys import KeyAdmin
from lumagate.wiring.stores import Stores


def key_admin(stores: Stores) -> KeyAdmin:
    return KeyAdmin(stores.keys, stores.ledger, stores.box)


def account_admin(
    stores: Stores, on_pool_changed: Callable[[], None] | None = None
) -> AccountAdmin:
    return AccountAdmin(stores.accounts, stores.pool, on_pool_changed)
