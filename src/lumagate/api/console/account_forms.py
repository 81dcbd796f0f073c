"""The add-account form as an operator fills it in, turned into a :class:`NewAccount`.

Each kind takes one secret (an official or relay API key, or a web cookie string); the settings
a kind needs are added here as the CLI's ``accounts add`` adds them (an official key gets its
upstream-callback token), and a web cookie's expiry is noted when its token says.
"""

from __future__ import annotations

import secrets

from lumagate.api.console.views import FormError
from lumagate.domain.accounts import CALLBACKS, HOOK_TOKEN, NewAccount
from lumagate.domain.channels import Channel
from lumagate.service.account_checks import SESSION_EXPIRES_AT, session_expiry

SECRET_FIELD = {"luma-official": "api_key", "luma-web": "cookie", "relay": "api_key"}


def base_url(kind: str, value: str) -> str | None:
    if not value:
        if kind == "relay":
            raise FormError("error.base_url_required")
        return None
    if not value.startswith(("http://", "https://")):
        raise FormError("error.base_url")
    return value.rstrip("/")


def new_account(
    *,
    kind: str,
    secret: str,
    name: str,
    url: str,
    max_concurrency: int,
    channels: tuple[Channel, ...],
    taken: set[str],
) -> NewAccount:
    if kind not in SECRET_FIELD:
        raise FormError("error.kind")
    if not secret:
        raise FormError("error.secret_required")
    if name and name in taken:
        raise FormError("error.name_taken")
    settings: dict[str, object] = {}
    if kind == "luma-official":
        settings = {HOOK_TOKEN: secrets.token_urlsafe(32), CALLBACKS: True}
    if kind == "luma-web" and (expiry := session_expiry(secret)) is not None:
        settings[SESSION_EXPIRES_AT] = expiry
    return NewAccount(
        kind=kind,
        name=name or _free_name(kind, taken),
        base_url=base_url(kind, url),
        credentials={SECRET_FIELD[kind]: secret},
        max_concurrency=max_concurrency,
        channels=channels,
        settings=settings,
    )


def _free_name(kind: str, taken: set[str]) -> str:
    n = 1
    while f"{kind}-{n}" in taken:
        n += 1
    return f"{kind}-{n}"
