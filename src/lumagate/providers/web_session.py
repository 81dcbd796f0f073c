"""Luma web-app sessions: the browser cookie string, rotated by ``Set-Cookie`` and persisted.

The web app hands out fresh tokens in ``Set-Cookie`` and lets old ones expire. A peer gateway
kept the rotated cookie only in memory and lost every session on restart; here every change is
merged into the account's cookie string and written back to the store at once (encrypted, via
the :data:`CredentialSink`), so a restart resumes with the newest token.

A process keeps the newest cookie of each account in memory too, because a call may start with
an account handle loaded just before another call rotated the cookie. When the stored cookie is
one this process never produced (an operator pasted a new one), the stored one wins.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from lumagate.domain.accounts import AccountHandle

CredentialSink = Callable[[str, dict[str, str]], Awaitable[None]]
"""(account id, new credentials) → persisted."""
COOKIE = "cookie"
REMEMBERED_VERSIONS = 8


def parse_cookie_header(text: str) -> OrderedDict[str, str]:
    """``"a=1; b=2"`` → ordered name → value (malformed pieces are skipped)."""
    cookies: OrderedDict[str, str] = OrderedDict()
    for piece in text.split(";"):
        name, sep, value = piece.strip().partition("=")
        if sep and name.strip():
            cookies[name.strip()] = value.strip()
    return cookies


def format_cookie_header(cookies: OrderedDict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def set_cookie_changes(headers: Iterable[str]) -> dict[str, str | None]:
    """Name → new value (None: the server deleted it) from ``Set-Cookie`` header values."""
    changes: dict[str, str | None] = {}
    for header in headers:
        first, *attributes = header.split(";")
        name, sep, value = first.strip().partition("=")
        if not sep or not name.strip():
            continue
        deleted = not value.strip() or any(
            a.strip().lower().replace(" ", "") in ("max-age=0", "max-age=-1") for a in attributes
        )
        changes[name.strip()] = None if deleted else value.strip()
    return changes


def merge_cookie(cookie: str, changes: dict[str, str | None]) -> str:
    cookies = parse_cookie_header(cookie)
    for name, value in changes.items():
        if value is None:
            cookies.pop(name, None)
        else:
            cookies[name] = value
    return format_cookie_header(cookies)


@dataclass
class _Jar:
    current: str
    known: list[str] = field(default_factory=list)

    def remember(self, cookie: str) -> None:
        if cookie in self.known:
            self.known.remove(cookie)
        self.known.append(cookie)
        del self.known[:-REMEMBERED_VERSIONS]


class SessionJars:
    """The newest cookie per web account, persisted through ``sink`` on every rotation."""

    def __init__(self, sink: CredentialSink) -> None:
        self._sink = sink
        self._jars: dict[str, _Jar] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def cookie_for(self, account: AccountHandle) -> str:
        stored = account.credentials.get(COOKIE, "")
        jar = self._jars.get(account.id)
        if jar is None or stored not in jar.known:
            jar = _Jar(current=stored)
            jar.remember(stored)
            self._jars[account.id] = jar
        return jar.current

    async def absorb(self, account: AccountHandle, set_cookie_headers: list[str]) -> bool:
        """Merge ``Set-Cookie`` values into the account's cookie; True if it changed."""
        changes = set_cookie_changes(set_cookie_headers)
        if not changes:
            return False
        lock = self._locks.setdefault(account.id, asyncio.Lock())
        async with lock:
            self.cookie_for(account)
            jar = self._jars[account.id]
            merged = merge_cookie(jar.current, changes)
            if merged == jar.current:
                return False
            jar.current = merged
            jar.remember(merged)
            await self._sink(account.id, {**account.credentials, COOKIE: merged})
        return True
