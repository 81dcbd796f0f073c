"""Authenticator: a missing, wrong, revoked or expired key is refused; channels are enforced."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import AuthenticationRequired, Forbidden
from lumagate.service.auth import Authenticator
from lumagate.wiring.stores import Stores


async def test_a_valid_key_is_its_tenant(stores: Stores) -> None:
    record, plaintext = await stores.keys.create("t", utcnow())
    assert (await Authenticator(stores.keys).tenant(plaintext)).id == record.id


@pytest.mark.parametrize("presented", [None, ""], ids=["none", "empty"])
async def test_no_key_asks_for_one(stores: Stores, presented: str | None) -> None:
    with pytest.raises(AuthenticationRequired, match="Missing API key"):
        await Authenticator(stores.keys).tenant(presented)


async def test_a_wrong_revoked_or_expired_key_is_refused(stores: Stores) -> None:
    now = utcnow()
    auth = Authenticator(stores.keys)
    revoked, revoked_plain = await stores.keys.create("r", now)
    await stores.keys.revoke(revoked.id, now)
    _, expired_plain = await stores.keys.create("e", now, expires_at=now - timedelta(seconds=1))
    for presented in ("sk-lg-not-a-key", revoked_plain, expired_plain):
        with pytest.raises(AuthenticationRequired, match="Invalid, expired or revoked"):
            await auth.tenant(presented)


async def test_a_channel_outside_the_key_is_forbidden(stores: Stores) -> None:
    record, _ = await stores.keys.create("d", utcnow(), channels=(Channel.DEFAULT,))
    Authenticator.require_channel(record, Channel.DEFAULT)
    with pytest.raises(Forbidden) as refused:
        Authenticator.require_channel(record, Channel.PRO)
    assert refused.value.code == "channel_not_allowed" and "pro" in refused.value.message


async def test_the_key_is_read_by_the_raw_drivers_one_statement(stores: Stores) -> None:
    """No engine round trip (store/hot_read.py), and no cache: a revocation acts at once."""
    record, plaintext = await stores.keys.create("raw", utcnow())
    auth = Authenticator(stores.keys)
    sent: list[str] = []
    stores.keys.hot.trace(sent.append)
    engine: list[str] = []

    def count(_c: Any, _cur: Any, text: str, *_rest: Any) -> None:
        engine.append(text)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        assert (await auth.tenant(plaintext)).id == record.id
        assert (await auth.tenant(plaintext)).id == record.id
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert engine == [] and [text.split()[0] for text in sent] == ["SELECT", "SELECT"]
    await stores.keys.revoke(record.id, utcnow())
    with pytest.raises(AuthenticationRequired):
        await auth.tenant(plaintext)
