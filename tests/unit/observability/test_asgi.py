"""ScopeMiddleware hands a scope of another type to the app untouched and runs its own work on
a scope of its type."""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive, Scope, Send

from lumagate.observability.asgi import ScopeMiddleware


class _Marking(ScopeMiddleware):
    """Marks the scopes it handles, then calls the app with a send that tags messages."""

    handles = "lifespan"

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["marked"] = True

        async def tagged(message: Message) -> None:
            await send({**message, "tagged": True})

        await self.app(scope, receive, tagged)


def _run(scope_type: str) -> tuple[list[Scope], list[Message], list[bool]]:
    """The scopes the app saw, the messages that left, and whether the app got our receive."""
    seen: list[Scope] = []
    sent: list[Message] = []
    same_receive: list[bool] = []

    async def receive() -> Message:
        return {"type": "nothing"}

    async def app(scope: Scope, got: Receive, send: Send) -> None:
        seen.append(scope)
        same_receive.append(got is receive)
        await send({"type": "done"})

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(_Marking(app)({"type": scope_type}, receive, send))
    return seen, sent, same_receive


def test_another_scope_type_reaches_the_app_untouched() -> None:
    seen, sent, same_receive = _run("http")
    assert seen == [{"type": "http"}]
    assert sent == [{"type": "done"}]
    assert same_receive == [True]


def test_its_own_scope_type_runs_handle() -> None:
    seen, sent, _ = _run("lifespan")
    assert seen == [{"type": "lifespan", "marked": True}]
    assert sent == [{"type": "done", "tagged": True}]
