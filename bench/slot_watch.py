"""When the gateway learnt that a generation ended, seen from the sim (the bench's slot-free).

The issue's slot-free→submit runs from the moment the gateway learnt a slot was free to the
moment the sim receives the next create. The gateway learns it in one of two ways, both
observed here on the sim's side of the wire, on the bench process's monotonic clock (the sim
runs in this process):

- a read: the sim finished answering a ``GET /generations[/{id}]`` that showed the generation
  ``completed`` (an ASGI wrapper around the sim app, installed before it starts);
- a callback: the gateway acknowledged (2xx) the generation's ``completed`` callback (a wrapper
  around the sim's callback sender).

The earliest of the two counts. The older figure (upstream completion → next create) is kept
beside it: in polling mode it also holds the time until a poll finds the completion.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lumagate.sim.config import SimConfig
from lumagate.sim.testing import SimServer

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SlotWatch:
    """generation id → when the gateway first learnt it had completed (monotonic seconds)."""

    def __init__(self) -> None:
        self.learnt: dict[str, float] = {}

    def note(self, generation_id: str, at: float) -> None:
        self.learnt.setdefault(generation_id, at)


def _completed_ids(body: bytes) -> list[str]:
    try:
        answer = json.loads(body)
    except ValueError:
        return []
    if not isinstance(answer, dict):
        return []
    found = answer.get("generations", [answer])
    items = found if isinstance(found, list) else []
    return [str(g["id"]) for g in items if isinstance(g, dict) and g.get("state") == "completed"]


class ReadWatch:
    """ASGI wrapper: notes each completed generation a read answer showed, once it is sent."""

    def __init__(self, app: ASGIApp, watch: SlotWatch) -> None:
        self.app = app
        self.watch = watch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        read = scope.get("type") == "http" and scope.get("method") == "GET"
        if not read or "/generations" not in str(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def sending(message: Message) -> None:
            await send(message)
            if message.get("type") == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    sent = time.monotonic()
                    for generation_id in _completed_ids(b"".join(chunks)):
                        self.watch.note(generation_id, sent)

        await self.app(scope, receive, sending)


def _watch_callbacks(sim: SimServer, watch: SlotWatch) -> None:
    """Note each ``completed`` callback the gateway acknowledged, when it did."""
    sender = sim.runtime.callbacks
    deliver = sender._deliver

    async def delivering(delivery: Any, payload: dict[str, Any], policy: Any) -> None:
        await deliver(delivery, payload, policy)
        if delivery.delivered and delivery.state == "completed":
            watch.note(str(delivery.generation_id), time.monotonic())

    setattr(sender, "_deliver", delivering)  # noqa: B010 - a bench probe on the sim's sender


@contextmanager
def watched_sim(watch: SlotWatch, **config: Any) -> Iterator[SimServer]:
    """A started sim (as ``bench.harness.sim_server``) whose reads and callbacks ``watch`` sees."""
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as media:
        server = SimServer(SimConfig(media_dir=Path(media), **config))
        server.app.add_middleware(ReadWatch, watch=watch)  # type: ignore[arg-type]
        with server:
            _watch_callbacks(server, watch)
            yield server
