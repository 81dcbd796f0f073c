"""The composition root on its own: a Gateway built without the HTTP app still sends each
dialect's callback body (the renderers are injected, not registered by the app's routers)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lumagate.api import luma_mock, newapi_video, official, openai_videos, reseller
from lumagate.api.luma_shapes import flat_generation
from lumagate.domain.accounts import HOOK_TOKEN, AccountHandle
from lumagate.domain.channels import Channel
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.gateway import Gateway, dialect_renderers
from lumagate.providers.luma_official import LumaOfficialProvider
from lumagate.service.task_bodies import neutral_body
from lumagate.service.tasks import CreateCommand
from lumagate.settings import Settings
from tests.support.acceptance import data_uri, png_bytes, start_picture
from tests.support.waiting import async_wait_until

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
        await gw.stop()


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
        await gw.stop()


PUBLIC = "https://videos.example.com"


async def _completed(gw: Gateway, task_id: str) -> Task:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        task = await gw.stores.tasks.get(task_id)
        assert task is not None
        if task.state.is_terminal:
            assert task.state == TaskState.COMPLETED, task.failure_reason
            return task
        await asyncio.sleep(0.05)
    raise AssertionError(f"{task_id} not rendered within 60 s")


def _walk_urls(value: object) -> list[str]:
    """Every string in a JSON-like body that looks like a link."""
    if isinstance(value, dict):
        return [url for item in value.values() for url in _walk_urls(item)]
    if isinstance(value, list):
        return [url for item in value for url in _walk_urls(item)]
    return [value] if isinstance(value, str) and value.startswith(("http://", "https://")) else []


async def test_every_link_is_built_on_the_public_url_not_this_replicas_address(
    tmp_path: Path,
) -> None:
    """Media links in bodies, keyframes sent upstream and the upstream callback URL all name
    LUMAGATE_PUBLIC_URL (the load balancer), never the replica's own host and port."""
    settings = _settings(tmp_path).with_overrides(host="10.1.2.3", port=8123, public_url=PUBLIC)
    gw = Gateway(settings)
    await gw.start()  # the sandbox renders the task, so its video links are in the bodies
    try:
        services = gw.services
        key = (await services.keys.create("links")).record
        picture = data_uri(png_bytes(start_picture()))
        task = await services.tasks.create(
            key,
            CreateCommand(
                channel=Channel.DEFAULT,
                dialect=reseller.DIALECT,
                prompt="a fox",
                start_image=picture,
            ),
        )
        assert task.request.start_image is not None
        sent = services.media.public_url(task.request.start_image)  # what an upstream is given
        task = await _completed(gw, task.id)
        assert sent.startswith(PUBLIC + "/files/uploads/")
        checked = 0
        for dialect, render in dialect_renderers().items():
            for url in _walk_urls(await render(task, services.tasks)):
                assert url.startswith(PUBLIC + "/"), (dialect, url)
                assert "10.1.2.3" not in url and ":8123" not in url
                checked += 1
        assert checked >= 2 * len(DIALECTS)  # every body links the video at least
        official_provider = gw.engine.providers.get(LumaOfficialProvider.kind)
        assert isinstance(official_provider, LumaOfficialProvider)
        account = AccountHandle(
            id="a",
            name="official",
            kind="luma-official",
            base_url="https://api.lumalabs.ai",
            settings={HOOK_TOKEN: "tok"},
        )
        uploaded = await official_provider.upload_image(
            account, png_bytes(start_picture()), "image/png"
        )
        assert uploaded.startswith(PUBLIC + "/files/uploads/")
        assert official_provider.callback_url(account) == PUBLIC + "/upstream-hooks/tok"
        # a link the gateway gave out, presented to this replica, is known as its own upload
        recognised = await services.tasks.create(
            key,
            CreateCommand(
                channel=Channel.DEFAULT, dialect=reseller.DIALECT, prompt="again", start_image=sent
            ),
        )
        assert recognised.request.start_image == task.request.start_image
    finally:
        await gw.stop()


async def test_a_started_gateway_removes_the_partial_files_a_killed_write_left(
    tmp_path: Path,
) -> None:
    """A ``.tmp-`` file not written for over an hour is an interrupted write's (the process
    died before the rename): the engine's partial-file sweep removes it at start."""
    settings = _settings(tmp_path)
    folder = settings.media_dir / "videos" / "ab"
    folder.mkdir(parents=True)
    left, filling = folder / ".tmp-killed.mp4", folder / ".tmp-filling.mp4"
    left.write_bytes(b"half a video")
    filling.write_bytes(b"a write in progress")
    two_hours_ago = time.time() - 7200
    os.utime(left, (two_hours_ago, two_hours_ago))
    gw = Gateway(settings)
    await gw.start()
    try:
        await async_wait_until(lambda: not left.exists(), "the stale partial file removed")
        assert filling.exists()
    finally:
        await gw.stop()
