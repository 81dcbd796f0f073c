"""How ``lumagate serve`` runs the app under uvicorn: timeouts chosen, logging made safe.

- Keep-alive: an idle connection is closed after ``keep_alive_seconds`` (uvicorn's timer).
- Headers: uvicorn has no timer for headers that never finish, nor for a fresh connection that
  sends nothing. :func:`header_deadline_protocol` adds one to uvicorn's httptools protocol:
  from the connection's start, and from the first byte of each request, the headers must be
  complete within ``header_timeout_seconds`` or the connection is closed. Header size is capped
  at 16 KB (``h11_max_incomplete_event_size``; httptools has its own cap).
- Bodies: :class:`lumagate.api.body_deadline.BodyDeadline` answers 408 when a body takes
  longer than ``body_timeout_seconds`` to arrive.
- Logging: uvicorn configures its loggers when its ``Config`` is built; the redaction is
  installed after that, so uvicorn's own handlers redact too and its access lines still work.
  The configuration is :func:`lumagate.observability.json_logs.uvicorn_log_config`: one
  handler for every logger, readable text or JSON lines (``LUMAGATE_LOG_FORMAT``).
- The heap: once start-up completes, every object then alive is moved out of the garbage
  collector's generations (``gc.freeze``, :class:`FrozenAfterStartup`). A full collection
  walked the ~160k objects of the imports and the app each time (~100 ms on the shared
  machine, the largest part of a GET's p99 at half load); after the freeze it walks only what
  was made since. Only ``lumagate serve`` does this: a test process building many apps would
  leak them.
- The collector during start-up: ``lumagate serve`` pauses it (``gc.disable``) before it
  imports the server, and the freeze above resumes it (``collector_paused``). Start-up makes
  ~200k objects that all live as long as the process, and the collector, run on its usual
  thresholds, walked them again and again as they accumulated: ~300 young and middle passes and
  two full ones, ~15 % of the CPU from spawn to the first ``/healthz``. Paused, they are not
  walked at all: the freeze takes start-up's garbage with them (~1,300 objects in cycles, ~0.5 MB,
  most from the imports), which a full collection just before it would free at the cost of one
  walk of the whole heap (~0.1 s on the shared machine, ~10 % of start-up; the ~70k fewer
  tracked objects after such a collection are tuples it stops tracking, not freed memory). The
  resident memory after start-up is the same either way (docs/bench.md).
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from lumagate.observability.asgi import ScopeMiddleware
from lumagate.observability.json_logs import uvicorn_log_config
from lumagate.security.log_redaction import install_log_redaction
from lumagate.settings import Settings

MAX_HEADER_BYTES = 16 * 1024
GRACEFUL_SHUTDOWN_SECONDS = 10


def server_config(
    app: Any,
    settings: Settings,
    *,
    host: str,
    port: int,
    log_level: str,
    collector_paused: bool = False,
) -> uvicorn.Config:
    """A uvicorn config for ``app`` with the gateway's timeouts; installs log redaction.

    ``collector_paused``: the caller disabled the garbage collector for start-up; it is
    resumed, after the freeze, when start-up completes (see the module doc)."""
    config = uvicorn.Config(
        FrozenAfterStartup(app, collector_paused=collector_paused),
        host=host,
        port=port,
        log_level=log_level,
        log_config=uvicorn_log_config(settings.log_format, log_level),
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        timeout_keep_alive=settings.keep_alive_seconds,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        http=header_deadline_protocol(settings.header_timeout_seconds),
        ws="none",  # no WebSocket route: do not load the websockets package (~3 MiB)
    )
    configured = (settings.admin_key, settings.secret_key)
    install_log_redaction(v for v in configured if v)  # after uvicorn's dictConfig
    return config


class FrozenAfterStartup(ScopeMiddleware):
    """Freezes the heap when the app reports its start-up complete (see the module doc); with
    ``collector_paused``, resumes the collector after."""

    handles = "lifespan"

    def __init__(self, app: ASGIApp, *, collector_paused: bool = False) -> None:
        super().__init__(app)
        self.collector_paused = collector_paused

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def freeze_when_started(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                gc.freeze()
                if self.collector_paused:
                    gc.enable()
            await send(message)

        await self.app(scope, receive, freeze_when_started)


def header_deadline_protocol(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, closing connections whose headers take over ``seconds``."""

    class HeaderDeadlineProtocol(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._header_timer is None:
                self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._header_timer = self.loop.call_later(seconds, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadlineProtocol
