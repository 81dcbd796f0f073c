"""Console sign-in sessions: a sealed, expiring cookie; CSRF tokens; a limit on wrong keys.

The cookie holds a Fernet token (AES + HMAC) of ``{sid, csrf, exp}``, sealed with a secret
derived from the admin key, so it carries nothing the key could be read from, every replica
with the same admin key accepts it, and changing the admin key signs everyone out. Sign-out
forgets the session id in this process (other replicas honour it until it expires).
Forms carry the session's CSRF token; the sign-in form, which comes before any session, uses a
double-submit token in its own SameSite cookie.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

SESSION_COOKIE = "lg_console"
SIGN_IN_COOKIE = "lg_sign_in"
LANG_COOKIE = "lg_lang"
CSRF_FIELD = "csrf"
SESSION_PURPOSE = "lumagate console session v1"


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in operator: the session id, its CSRF token and when it ends (epoch seconds)."""

    sid: str
    csrf: str
    expires_at: float

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(self.csrf, presented)


class SessionCodec:
    """Issues and reads session cookies; remembers sign-outs until the session would expire."""

    def __init__(
        self,
        secret: Callable[[], bytes],
        lifetime_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._sealer: Fernet | None = None
        self.lifetime = lifetime_seconds
        self._clock = clock
        self._revoked: dict[str, float] = {}

    @property
    def _fernet(self) -> Fernet:
        """Derived on first use, so the admin key is read when a session is, not at import."""
        if self._sealer is None:
            from cryptography.fernet import Fernet  # with the first session, not the server

            self._sealer = Fernet(base64.urlsafe_b64encode(self._secret()))
        return self._sealer

    def issue(self) -> tuple[str, ConsoleSession]:
        session = ConsoleSession(
            sid=secrets.token_urlsafe(18),
            csrf=secrets.token_urlsafe(24),
            expires_at=self._clock() + self.lifetime,
        )
        payload = json.dumps({"sid": session.sid, "csrf": session.csrf, "exp": session.expires_at})
        return self._fernet.encrypt(payload.encode()).decode("ascii"), session

    def read(self, cookie: str | None) -> ConsoleSession | None:
        if not cookie:
            return None
        from cryptography.fernet import InvalidToken

        try:
            data = json.loads(self._fernet.decrypt(cookie.encode("ascii")))
            session = ConsoleSession(str(data["sid"]), str(data["csrf"]), float(data["exp"]))
        except (InvalidToken, ValueError, KeyError, TypeError, UnicodeEncodeError):
            return None
        if session.expires_at <= self._clock() or session.sid in self._revoked:
            return None
        return session

    def revoke(self, session: ConsoleSession) -> None:
        now = self._clock()
        self._revoked = {sid: exp for sid, exp in self._revoked.items() if exp > now}
        self._revoked[session.sid] = session.expires_at


class SignInLimiter:
    """At most ``attempts`` wrong keys per client in ``window`` seconds; then refuse for a while."""

    def __init__(
        self, attempts: int, window: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.attempts = attempts
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str) -> deque[float]:
        now = self._clock()
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may try again, or None if it may try now."""
        failures = self._recent(client)
        if len(failures) < self.attempts:
            return None
        return max(1, int(failures[0] + self.window - self._clock()) + 1)

    def failed(self, client: str) -> None:
        self._recent(client).append(self._clock())
        if len(self._failures) > 10_000:  # bound memory under a spray of addresses
            self._failures = {c: f for c, f in self._failures.items() if f}

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)


def new_sign_in_token() -> str:
    return secrets.token_urlsafe(24)


def tokens_match(expected: str | None, presented: str | None) -> bool:
    if not expected or presented is None:
        return False
    return hmac.compare_digest(expected, presented)
