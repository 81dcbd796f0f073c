"""The listening socket of ``lumagate serve``, bound before the app is built.

Binding first lets ``--port 0`` work: the kernel picks a free port, the settings (and so the
public URL in every media link) learn the port actually bound, and ``--port-file`` tells whoever
started the server (tests, supervisors) which port that is. Nothing has to guess a free port and
hope it is still free when the server binds it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # uvicorn loads only in the commands that serve
    import uvicorn

STARTUP_FAILURE = 3  # uvicorn's exit code when the server did not start


def bind_listener(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


def bound_port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def write_port_file(path: Path, port: int) -> None:
    """Write ``port`` to ``path`` atomically: a reader sees no file or the whole number."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(f"{port}\n", encoding="ascii")
    os.replace(partial, path)


def serve_on(config: uvicorn.Config, sock: socket.socket) -> None:
    """Run uvicorn with ``config`` on the already bound ``sock`` until SIGTERM or Ctrl-C."""
    import uvicorn

    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C has already shut it down cleanly
        server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)
