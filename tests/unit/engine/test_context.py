"""What every engine loop shares: an account with its provider, the submission of a task
(an extend names its source's upstream id), the lease deadline, the server id."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from lumagate.domain.accounts import NewAccount
from lumagate.domain.clock import utcnow
from lumagate.domain.states import TaskState
from lumagate.engine.context import is_pinned, lease_deadline
from lumagate.wiring.operator import account_admin
from lumagate.wiring.stores import Stores
from tests.support.stores import engine_context, stored_task


class RelayProvider:
    kind = "relay"


async def test_an_account_comes_with_its_provider_and_a_missing_one_with_none(
    stores: Stores,
) -> None:
    ctx = engine_context(stores, server_id="node-a")
    provider = RelayProvider()
    ctx.providers.register(provider)  # type: ignore[arg-type]
    account = await account_admin(stores).add(
        NewAccount(kind="relay", name="r", base_url="http://127.0.0.1:1", credentials={"k": "v"})
    )
    pair = await ctx.account_and_provider(account.id)
    assert pair is not None
    handle, found = pair
    assert handle.credentials == {"k": "v"} and found is provider
    assert ctx.server_id(handle) == "node-a/relay"
    assert await ctx.account_and_provider("no-such-account") is None


async def test_the_submission_of_an_extend_names_its_sources_upstream_id(stores: Stores) -> None:
    ctx = engine_context(stores)
    key, _ = await stores.keys.create("t", utcnow())
    source = await stored_task(stores, key.id, TaskState.SUBMITTED, upstream_id="up-source")
    plain = await ctx.submission_for(source)
    assert plain.intent_id == source.id and plain.extend_of_upstream_id is None
    assert plain.not_before == source.created_at
    extend = dataclasses.replace(
        source, id="t-extend", request=source.request.model_copy(update={"extend_of": source.id})
    )
    assert is_pinned(extend) and not is_pinned(source)
    assert (await ctx.submission_for(extend)).extend_of_upstream_id == "up-source"


async def test_the_lease_deadline_follows_the_setting(stores: Stores) -> None:
    ctx = engine_context(stores, lease_seconds=90.0)
    now = utcnow()
    assert lease_deadline(ctx, now) == now + timedelta(seconds=90)


async def test_publish_skips_nothing_and_sends_a_task(stores: Stores) -> None:
    ctx = engine_context(stores)
    key, _ = await stores.keys.create("t", utcnow())
    task = await stored_task(stores, key.id)
    heard = ctx.events.subscribe(task.id)
    await ctx.publish(None)
    assert heard.empty()
    await ctx.publish(task)
    assert heard.get_nowait() == task
