"""``lumagate serve`` freezes the heap when start-up completes (api/serving.py), and only then:
every other message passes through untouched."""

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
