"""``lumagate serve --workers N``: N server processes on one listening socket (PostgreSQL only).

One Python process serves a few thousand small requests a second at most; more cores need more
processes. Each worker is a whole replica (API and engine) in its own process, exactly as
replicas on several hosts are: the engine loops coordinate through the database (claims with
``SKIP LOCKED``, submission leases, the polling lease), so no worker is special and any may
die without stopping the others' engines. The parent binds the socket, applies migrations and
creates the secret and admin key files and the sandbox account once (so workers never race to
create them), starts
the workers with the socket (``spawn``: nothing of the parent's state is shared), and on
SIGTERM or Ctrl-C stops them all; if one exits on its own, the others are stopped too and the
parent exits non-zero, so a supervisor restarts the set.

SQLite is refused: it allows one writing process per data directory (``lumagate.lock``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import signal
import socket
import sys
from collections.abc import Sequence
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lumagate.settings import Settings

STOP_SECONDS = 20.0
SQLITE_REFUSED = (
    "--workers needs PostgreSQL: SQLite allows one writing process per data directory. "
    "Run one worker, or set LUMAGATE_DATABASE_URL=postgresql+asyncpg://... for several."
)

log = logging.getLogger("lumagate.workers")


def serve_workers(
    workers: int, host: str, port: int, log_level: str, port_file: Path | None
) -> int:
    """Run ``workers`` server processes; returns the exit code for the parent."""
    from lumagate.cli.listen import bind_listener, bound_port, write_port_file
    from lumagate.settings import load_settings

    if load_settings(host=host, port=port, log_level=log_level).is_sqlite:
        raise SystemExit(_refuse())
    listener = bind_listener(host, port)
    port = bound_port(listener)
    settings = load_settings(host=host, port=port, log_level=log_level)
    _prepare_shared(settings)
    spawn = multiprocessing.get_context("spawn")
    processes = [
        spawn.Process(
            target=run_worker,
            args=(listener, host, port, log_level),
            name=f"lumagate-worker-{index}",
        )
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    stopping = False

    def _stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: each worker shuts down gracefully

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if port_file is not None:
        write_port_file(port_file, port)
    print(f"lumagate: {workers} workers on {settings.resolved_public_url()}", flush=True)
    wait([p.sentinel for p in processes])  # until one exits (or all, after a stop)
    if not stopping:
        _stop(signal.SIGTERM, None)
    return _join(processes, stopping)


def _refuse() -> int:
    print(f"error: {SQLITE_REFUSED}", file=sys.stderr)
    return 2


def _prepare_shared(settings: Settings) -> None:
    """What the workers must find ready (each would create it at start, racing the others):
    the schema, the secret key, the admin key and the sandbox account."""
    from lumagate.domain.clock import utcnow
    from lumagate.security.admin_key import load_or_create_admin_key
    from lumagate.security.crypto import load_secret_box
    from lumagate.store import migrate
    from lumagate.store.accounts import AccountStore
    from lumagate.store.database import Database

    box = load_secret_box(settings.data_dir, settings.secret_key)
    load_or_create_admin_key(settings.data_dir, settings.admin_key)

    async def _migrate() -> None:
        database = Database(settings.resolved_database_url)
        try:
            await migrate.upgrade(database)
            if settings.sandbox_enabled:
                await AccountStore(database, box).ensure_sandbox(
                    utcnow(), settings.sandbox_concurrency
                )
        finally:
            await database.dispose()

    asyncio.run(_migrate())


def _join(processes: Sequence[BaseProcess], stopping: bool) -> int:
    for process in processes:
        process.join(STOP_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()
    clean = all(p.exitcode == 0 for p in processes)
    return 0 if stopping and clean else 1


def run_worker(listener: socket.socket, host: str, port: int, log_level: str) -> None:
    """One worker: the whole gateway (API and engine) served on the inherited socket."""
    gc.disable()  # start-up's objects are walked once, when it completes (api/serving.py)
    from lumagate.api.app import create_app
    from lumagate.api.serving import server_config
    from lumagate.cli.listen import serve_on
    from lumagate.settings import load_settings

    settings = load_settings(host=host, port=port, log_level=log_level)
    app = create_app(settings)
    config = server_config(
        app, settings, host=host, port=port, log_level=log_level, collector_paused=True
    )
    logging.captureWarnings(True)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    serve_on(config, listener)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)
