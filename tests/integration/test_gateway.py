"""The composition root on its own: a Gateway built without the HTTP app still sends each
dialect's callback body (the renderers are injected, not registered by the app's routers)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lumagate.api import luma_mock, newapi_video, official, openai_videos, reseller
from lumagate.api.luma_shapes import flat_generation
from lumagate.domain.channels import Channel
from lumagate.gateway import Gateway, dialect_renderers
from lumagate.service.task_bodies import neutral_body
from lumagate.service.tasks import CreateCommand
from lumagate.settings import Settings

HOOK = "http://127.0.0.1:9/hook"
DIALECTS = [
    reseller.DIALECT,
    official.DIALECT,
    luma_mock.DIALECT,
    newapi_video.DIALECT,
    openai_videos.DIALECT,
]


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db")


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    gw = Gateway(_settings(tmp_path))  # no create_app: no router was ever installed
    await gw.prepare()
    try:
        yield gw
    finally:
        await gw.close()


def test_the_root_knows_every_dialect_that_renders_tasks() -> None:
    renderers = dialect_renderers()
    assert set(renderers) == set(DIALECTS)
    assert renderers[reseller.DIALECT] is flat_generation
    assert renderers[official.DIALECT] is official.callback_body


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_callback_carries_the_submitting_dialects_body(
    gateway: Gateway, dialect: str
) -> None:
    services = gateway.services
    key = (await services.keys.create("hooks")).record
    task = await services.tasks.create(
        key,
        CreateCommand(channel=Channel.DEFAULT, dialect=dialect, prompt="a fox", notify_url=HOOK),
    )
    delivery = await services.callbacks.record(task)
    assert delivery is not None
    expected = await dialect_renderers()[dialect](task, services.tasks)
    assert json.loads(delivery.body) == json.loads(json.dumps(expected))
    assert json.loads(delivery.body) != json.loads(json.dumps(neutral_body(task)))


async def test_renderers_given_to_the_root_are_the_ones_used(tmp_path: Path) -> None:
    gw = Gateway(_settings(tmp_path), renderers={})
    await gw.prepare()
    try:
        key = (await gw.services.keys.create("plain")).record
        task = await gw.services.tasks.create(
            key,
            CreateCommand(
                channel=Channel.DEFAULT, dialect=official.DIALECT, prompt="a fox", notify_url=HOOK
            ),
        )
        delivery = await gw.services.callbacks.record(task)
        assert delivery is not None
        assert json.loads(delivery.body) == json.loads(json.dumps(neutral_body(task)))
    finally:
        await gw.close()
