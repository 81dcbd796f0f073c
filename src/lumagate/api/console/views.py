"""Small presentation helpers shared by console pages (states, links, form parsing)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi.responses import RedirectResponse

from lumagate.domain.accounts import AVAILABLE, CREDIT_BALANCE, Account
from lumagate.domain.channels import ALL_CHANNELS, Channel, parse_channels
from lumagate.domain.clock import utcnow
from lumagate.domain.tenant import ApiKey
from lumagate.service.account_checks import SESSION_EXPIRES_AT
from lumagate.service.tasks import TaskService


class FormError(ValueError):
    """A form value the console refuses before calling a service; ``key`` is a message key."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def account_state(account: Account, now: datetime | None = None) -> str:
    now = now or utcnow()
    if not account.enabled:
        return "disabled"
    if account.cooldown_until is not None and account.cooldown_until > now:
        return "cooling"
    return "enabled"


def account_quota(account: Account) -> str:
    available = account.settings.get(AVAILABLE)
    if isinstance(available, int):
        return str(available)
    balance = account.settings.get(CREDIT_BALANCE)
    return "" if balance is None else str(balance)


def session_expires(account: Account) -> str | None:
    value = account.settings.get(SESSION_EXPIRES_AT)
    return value if isinstance(value, str) else None


def key_state(key: ApiKey, now: datetime | None = None) -> str:
    if key.revoked_at is not None:
        return "revoked"
    return "active" if key.usable(now or utcnow()) else "expired"


def media_href(tasks: TaskService, ref: str | None) -> str | None:
    """A link the browser can follow to this gateway: ``/files/…`` for our media, else as is."""
    url = tasks.link(ref)
    if url is None:
        return None
    base = tasks.media.public_base_url.rstrip("/")
    if url.startswith(base + "/files/"):
        return url[len(base) :]
    return url


def optional_int(raw: str, field: str, minimum: int) -> int | None:
    if raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise FormError("error.not_integer", field=field) from None
    if value < minimum:
        raise FormError("error.at_least", field=field, minimum=minimum)
    return value


def required_int(raw: str, field: str, minimum: int | None = None) -> int:
    value = optional_int(raw, field, minimum if minimum is not None else -(10**15))
    if value is None:
        raise FormError("error.required", field=field)
    return value


def channels_from(values: list[str]) -> tuple[Channel, ...]:
    if not values:
        return ALL_CHANNELS
    try:
        return parse_channels(",".join(values))
    except ValueError:
        raise FormError("error.channels") from None


def back(
    path: str, *, msg: str | None = None, err: str | None = None, detail: str = ""
) -> RedirectResponse:
    """A 303 back to ``path`` with a flash message key (and an optional detail) for the page to
    show: how every console form answers."""
    query = {k: v for k, v in (("msg", msg), ("err", err), ("detail", detail[:300])) if v}
    return RedirectResponse(path + ("?" + urlencode(query) if query else ""), 303)
