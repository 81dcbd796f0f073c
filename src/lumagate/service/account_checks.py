"""What the operator learns about an account's credentials without running a generation.

``test`` makes the one call the upkeep loop makes (a web session's keep-alive, an official
key's balance read) with the stored credentials and reports only whether it worked and the
upstream's message; the credentials never leave the store and the provider. The call itself is
a :class:`CredentialProbe` given by the composition root (which knows the providers), so this
service imports no provider. ``session_expiry`` reads when a web cookie's access token expires
(its JWT ``exp``), where it has one.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.clock import iso_z, utcnow
from lumagate.store.accounts import AccountStore
from lumagate.store.pool import PoolStore

SESSION_EXPIRES_AT = "session_expires_at"
"""Account setting: when the web session's access token expires (ISO time), if known."""


@dataclass(frozen=True)
class CredentialCheck:
    """``untestable``: this kind has no call that checks credentials without a generation."""

    ok: bool
    message: str
    untestable: bool = False
    settings: Mapping[str, Any] = field(default_factory=dict)
    """What the check learned to store on the account (e.g. the plan's remaining quota)."""


class CredentialProbe(Protocol):
    """One credential-checking upstream call for an account (the provider's ``maintain``)."""

    async def __call__(self, account: AccountHandle) -> CredentialCheck: ...


def session_expiry(cookie: str) -> str | None:
    """The ``exp`` of the cookie's ``access_token`` JWT as ISO time, if it carries one."""
    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name != "access_token" or value.count(".") != 2:
            continue
        payload = value.split(".")[1]
        try:
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (binascii.Error, ValueError):
            return None
        exp = claims.get("exp") if isinstance(claims, dict) else None
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            try:
                return iso_z(datetime.fromtimestamp(exp, UTC))
            except (OverflowError, OSError, ValueError):
                return None
    return None


class CredentialTester:
    """Checks an account's stored credentials with one upstream call."""

    def __init__(self, accounts: AccountStore, pool: PoolStore, probe: CredentialProbe) -> None:
        self._accounts = accounts
        self._pool = pool
        self._probe = probe

    async def test(self, account_id: str) -> CredentialCheck:
        handle = await self._accounts.load_handle(account_id)
        if handle is None:
            return CredentialCheck(False, "no such account", untestable=True)
        check = await self._probe(handle)
        if check.ok and check.settings:
            await self._pool.update_settings(account_id, dict(check.settings), utcnow())
        return check

    async def note_session_expiry(self, account_id: str, cookie: str) -> None:
        """Record (or clear) when a renewed web cookie expires."""
        await self._pool.update_settings(
            account_id, {SESSION_EXPIRES_AT: session_expiry(cookie)}, utcnow()
        )
