"""``lumagate serve`` freezes the heap when start-up completes (api/serving.py), and only then:
every other message passes through untouched; when serve paused the collector for start-up,
start-up's garbage is collected first and the collector resumed before the server hears of it."""

from __future__ import annotations

import gc

import pytest
from starlette.types import Message, Receive, Scope, Send

from lumagate.api.serving import FrozenAfterStartup


async def test_the_heap_is_frozen_when_start_up_completes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frozen: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(len(seen)))
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        else:
            await send({"type": "http.response.start", "status": 204, "headers": []})

    async def send(message: Message) -> None:
        seen.append(message["type"])

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    wrapped = FrozenAfterStartup(app)
    await wrapped({"type": "http"}, receive, send)
    assert frozen == []  # a request does not freeze anything
    await wrapped({"type": "lifespan"}, receive, send)
    assert frozen == [1]  # once, just before the start-up's completion reached the server
    lifespan = ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert seen == ["http.response.start", *lifespan]


async def test_a_paused_collector_is_resumed_after_the_freeze_without_a_full_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda: calls.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "enable", lambda: calls.append("enable"))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "lifespan.startup.complete"})
        calls.append("started")  # the server heard of the start after the three steps
        await send({"type": "lifespan.shutdown.complete"})

    async def send(message: Message) -> None:
        calls.append(message["type"])

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    await FrozenAfterStartup(app, collector_paused=True)({"type": "lifespan"}, receive, send)
    assert calls == [  # no collection: it would walk the whole heap to free ~0.5 MB
        "freeze",
        "enable",
        "lifespan.startup.complete",
        "started",
        "lifespan.shutdown.complete",
    ]
