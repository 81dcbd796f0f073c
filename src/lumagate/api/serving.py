"""How ``lumagate serve`` runs the app under uvicorn: timeouts chosen, logging made safe.

- Keep-alive: an idle connection is closed after ``keep_alive_seconds`` (uvicorn's timer).
- Headers: uvicorn has no timer for a request whose headers never finish; it caps their size
  (``h11_max_incomplete_event_size``, 16 KB here). Put a reverse proxy with a header timeout in
  front when slow-header clients are a concern (docs/security.md).
- Bodies: :class:`lumagate.api.body_deadline.BodyDeadline` answers 408 when a body takes
  longer than ``body_timeout_seconds`` to arrive.
- Logging: uvicorn configures its loggers when its ``Config`` is built; the redaction is
  installed after that, so uvicorn's own handlers redact too and its access lines still work.
"""

from __future__ import annotations

import os
from typing import Any

import uvicorn

from lumagate.security.log_redaction import install_log_redaction
from lumagate.settings import Settings

MAX_HEADER_BYTES = 16 * 1024
GRACEFUL_SHUTDOWN_SECONDS = 10


def server_config(
    app: Any, settings: Settings, *, host: str, port: int, log_level: str
) -> uvicorn.Config:
    """A uvicorn config for ``app`` with the gateway's timeouts; installs log redaction."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        timeout_keep_alive=settings.keep_alive_seconds,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )
    configured = (settings.admin_key, os.environ.get("LUMAGATE_SECRET_KEY"))
    install_log_redaction(v for v in configured if v)  # after uvicorn's dictConfig
    return config
