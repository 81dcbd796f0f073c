"""Web-app sessions: cookie tokens that rotate through ``Set-Cookie`` and expire.

The real web API hands out fresh ``access_token`` cookies and lets old ones die. A gateway that
does not merge ``Set-Cookie`` into the stored cookie loses the account; this registry makes that
failure reproducible. An identity is the first token value the sim saw; every successor token
maps to it, so statistics and the ledger stay per account across rotations.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass


@dataclass
class _Token:
    identity: str
    issued: float
    successor: str | None = None


@dataclass(frozen=True)
class SessionGrant:
    """An accepted request: who it is, and the new token to send back, if it is time to rotate."""

    identity: str
    new_token: str | None


class SessionRejected(Exception):
    """The cookie is missing, unknown to a strict sim, expired or killed (answer 401)."""

    def __init__(self, reason: str, identity: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.identity = identity


class SessionRegistry:
    """Tokens by value; identities that were killed through ``/_sim/sessions/expire``."""

    def __init__(self) -> None:
        self._tokens: dict[str, _Token] = {}
        self._killed: set[str] = set()
        self._killed_tokens: set[str] = set()

    def reset(self) -> None:
        self._tokens.clear()
        self._killed.clear()
        self._killed_tokens.clear()

    def authenticate(
        self,
        token: str | None,
        now: float,
        *,
        lifetime: float,
        rotate_after: float,
        required_prefix: str = "",
    ) -> SessionGrant:
        """Check a token at monotonic time ``now``; a first-seen token starts a new identity."""
        if not token:
            raise SessionRejected("Not authenticated", None)
        known = self._tokens.get(token)
        if known is None:
            if not token.startswith(required_prefix):
                raise SessionRejected("Invalid session", None)
            known = _Token(identity=token, issued=now)
            self._tokens[token] = known
        if known.identity in self._killed or token in self._killed_tokens:
            raise SessionRejected("Session expired", known.identity)
        age = now - known.issued
        if age >= lifetime:
            raise SessionRejected("Session expired", known.identity)
        if age < rotate_after:
            return SessionGrant(known.identity, None)
        if known.successor is None:
            known.successor = secrets.token_urlsafe(24)
            self._tokens[known.successor] = _Token(identity=known.identity, issued=now)
        return SessionGrant(known.identity, known.successor)

    def identity_of(self, token: str) -> str | None:
        """The identity a token belongs to, without authenticating it (for statistics)."""
        known = self._tokens.get(token)
        return None if known is None else known.identity

    def known_identity(self, identity: str) -> bool:
        return any(token.identity == identity for token in self._tokens.values())

    def expire(self, identity: str, token: str | None = None) -> bool:
        """Kill every token of ``identity`` now (or only ``token``); False if never seen."""
        if not self.known_identity(identity):
            return False
        if token is None:
            self._killed.add(identity)
        elif self.identity_of(token) == identity:
            self._killed_tokens.add(token)
        else:
            return False
        return True
