"""In-process cost of one create: statements, transactions and CPU per ``POST /luma/generations``.

Run: ``python -m bench.write_profile [--postgres URL] [--queue N] [--creates N] [--profile]``.
The ASGI app is called in a loop through ``httpx.ASGITransport`` (no network, no server), with
the engine running and its one account busy (a processing task holds its only slot), so every
create stays queued and wakes the dispatcher as it would on a busy gateway. SQLAlchemy's
``before_cursor_execute`` hook counts the engines' statements and the raw drivers' trace hooks
theirs (``raw …``: the key's read, the create's transaction); ``time.process_time`` the CPU.
``--engine-writes`` runs the create's transaction on the engine (the raw driver's A/B in one
process). It does
not depend on the machine's load the way the HTTP bench does.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import json
import os
import pstats
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from lumagate.api.app import create_app
from lumagate.domain.clock import utcnow
from lumagate.domain.request import GenerationRequest
from lumagate.settings import Settings
from lumagate.store.schema import tasks

SHOW = bool(os.environ.get("SHOW_STATEMENTS"))  # print each statement text and its count
shown: collections.Counter[str] = collections.Counter()
BODY = {"user_prompt": "a red fox running through snow"}


def _statement_counter(app: Any) -> collections.Counter[str]:
    """Count every statement sent to the database (by its first word) on every engine."""
    counts: collections.Counter[str] = collections.Counter()
    for engine in _engines_of(app.state.services.tasks.tasks.db):

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            counts[statement.split(None, 1)[0].upper()] += 1
            if SHOW:
                shown[" ".join(statement.split())[:150]] += 1

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        event.listen(engine.sync_engine, "begin", lambda _c: counts.update(["(begin)"]))
        event.listen(engine.sync_engine, "commit", lambda _c: counts.update(["(commit)"]))

    def raw(statement: str) -> None:  # the raw driver's (store/hot_read.py, store/hot_write.py)
        counts["raw " + statement.split(None, 1)[0].upper()] += 1
        if SHOW:
            shown["(raw) " + " ".join(statement.split())[:144]] += 1

    services = app.state.services
    services.authenticator.keys.hot.trace(raw)
    writes = getattr(services.tasks, "writes", None)
    if hasattr(writes, "trace"):  # HotWrites (a branch without it writes on the engine only)
        writes.trace(raw)
    return counts


def _engines_of(db: Any) -> list[Any]:
    found = []
    for name in ("_writer", "_reader", "_single"):
        engine = getattr(db, name)
        if all(e.sync_engine.pool is not engine.sync_engine.pool for e in found):
            found.append(engine)  # PostgreSQL: one pool (its autocommit view shares the events)
    return found


async def _busy_account(db: Any, accounts: Any, tenant_id: str) -> None:
    """One account of one slot, held by a processing task that is never polled soon."""
    now = utcnow()
    account = await accounts.create(
        name="busy",
        kind="luma-official",
        now=now,
        base_url="http://127.0.0.1:9/v1",
        credentials={"api_key": "x"},
        max_concurrency=1,
    )
    row = _task_row(tenant_id, "processing", now)
    row.update(
        account_id=account.id,
        upstream_id="up-1",
        submitted_at=now,
        next_poll_at=now + timedelta(days=1),
    )
    async with db.write() as conn:
        await conn.execute(tasks.insert().values(**row))


def _task_row(tenant_id: str, state: str, now: Any) -> dict[str, Any]:
    return dict(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        channel="default",
        priority=0,
        dialect="reseller",
        request=GenerationRequest(prompt="p").model_dump(mode="json"),
        state=state,
        created_at=now,
        updated_at=now,
    )


async def _seed_queue(db: Any, tenant_id: str, depth: int) -> None:
    now = utcnow() - timedelta(hours=1)
    rows = [_task_row(tenant_id, "queued", now) for _ in range(depth)]
    for start in range(0, len(rows), 2000):
        async with db.write() as conn:
            await conn.execute(tasks.insert(), rows[start : start + 2000])


async def _creates(client: _RawClient, count: int, walls: list[float]) -> None:
    for _ in range(count):
        start = time.perf_counter()
        status, answer = await client.post()
        walls.append(time.perf_counter() - start)
        assert status == 200, answer
        await asyncio.sleep(0)  # a loop turn between requests, as a server's (the ticker runs)


async def _ticker(lateness: list[float], running: list[bool]) -> None:
    """How late the loop runs a 1 ms timer: how long anything held the loop thread (a
    checkpoint on it, a create's statements) or the OS did not run it (the machine's load)."""
    loop = asyncio.get_running_loop()
    while running:
        due = loop.time() + 0.001
        await asyncio.sleep(0.001)
        lateness.append(loop.time() - due)


def _spread(label: str, values: list[float]) -> str:
    ordered = sorted(values) or [0.0]
    p50, p99, p999 = (
        ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 for q in (0.5, 0.99, 0.999)
    )
    return (
        f"{label} p50 {p50:.2f} ms, p99 {p99:.2f} ms, p99.9 {p999:.1f} ms, "
        f"max {ordered[-1] * 1000:.1f} ms"
    )


def _replica_keys() -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {"secret_key": Fernet.generate_key().decode(), "admin_key": "sk-lg-admin-write-profile"}


class _RawClient:
    """One ``POST /luma/generations`` as a raw ASGI call: no HTTP client's cost in the figure."""

    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.body = json.dumps(BODY).encode()
        self.headers = [
            (b"host", b"gateway"),
            (b"authorization", f"Bearer {key}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self.body)).encode()),
        ]

    async def post(self) -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/luma/generations",
            "raw_path": b"/luma/generations",
            "query_string": b"",
            "root_path": "",
            "headers": list(self.headers),
            "client": ("127.0.0.1", 1),
            "server": ("gateway", 80),
        }
        sent = False
        out: dict[str, Any] = {"status": 0, "body": b""}

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()
            sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                out["status"] = message["status"]
            elif message["type"] == "http.response.body":
                out["body"] += message.get("body", b"")

        await self.app(scope, receive, send)
        return out["status"], out["body"]


async def _pg_admin(admin_url: str, statement: str) -> None:
    import asyncpg  # PostgreSQL runs only

    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> None:
    """A fresh database each run: a SQLite file, or a new PostgreSQL database dropped after."""
    if not args.postgres:
        await _run(args, None)
        return
    name = f"lumagate_wp_{uuid.uuid4().hex[:12]}"
    await _pg_admin(args.postgres, f'CREATE DATABASE "{name}"')
    base = args.postgres.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        await _run(args, f"{base}/{name}")
    finally:
        await _pg_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _run(args: argparse.Namespace, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pg = {} if database_url is None else {"database_url": database_url, **_replica_keys()}
        settings = Settings(
            data_dir=Path(tmp),
            public_url="http://gateway",
            sandbox_enabled=False,
            **pg,
        )
        app = create_app(settings, start_engine=not args.no_engine)
        async with app.router.lifespan_context(app):
            services = app.state.services
            db = services.tasks.tasks.db
            key, plaintext = await services.authenticator.keys.create("bench", utcnow())
            await _busy_account(db, services.tasks.accounts, key.id)
            await _seed_queue(db, key.id, args.queue)
            if args.engine_writes:  # the transaction on the engine, as before store/hot_write.py
                services.tasks.writes = services.tasks.transactions
            counts = _statement_counter(app)
            client = _RawClient(app, plaintext)
            if True:
                for _ in range(50):  # warm-up: caches, statement compilation
                    assert (await client.post())[0] == 200
                await asyncio.sleep(0.2)
                counts.clear()
                shown.clear()
                profiler = cProfile.Profile() if args.profile else None
                walls: list[float] = []
                lateness: list[float] = []
                ticking = asyncio.create_task(_ticker(lateness, running := [True]))
                cpu, wall = time.process_time(), time.perf_counter()
                main = time.thread_time()
                if profiler:
                    profiler.enable()
                await asyncio.gather(
                    *(
                        _creates(client, args.creates // args.concurrency, walls)
                        for _ in range(args.concurrency)
                    )
                )
                await asyncio.sleep(0.2)  # let the dispatcher passes the creates woke finish
                running.clear()
                await ticking
                if profiler:
                    profiler.disable()
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall - 0.2
                main = time.thread_time() - main
        n = args.creates // args.concurrency * args.concurrency
        import lumagate

        where = Path(lumagate.__file__).parent
        raw_writer = hasattr(services.tasks, "writes") and not args.engine_writes
        where_writes = "raw driver" if raw_writer else "engine"
        print(
            f"database: {'PostgreSQL' if args.postgres else 'SQLite'}, queue {args.queue}, "
            f"writes on the {where_writes}"
        )
        print(f"lumagate from {where}")
        print(
            f"CPU per create: {cpu / n * 1000:.3f} ms (event-loop thread "
            f"{main / n * 1000:.3f} ms, wall {wall / n * 1000:.3f} ms)"
        )
        per = {k: round(v / n, 2) for k, v in sorted(counts.items())}
        total = sum(v for k, v in counts.items() if not k.startswith("("))
        print(f"statements per create: {total / n:.2f} {per}")
        print(_spread("wall per create:", walls))
        print(_spread("event loop late on a 1 ms timer:", lateness))
        writes = getattr(services.tasks, "writes", None)
        fallbacks = getattr(writes, "fallbacks", None)
        if fallbacks is not None:
            print(f"creates whose transaction fell back to the engine: {fallbacks}")
        checkpoints = getattr(writes, "checkpoints", None)
        if checkpoints is not None:
            print(
                f"raw writer's WAL checkpoints: {checkpoints.runs}, "
                f"{checkpoints.incomplete} of them incomplete, the longest "
                f"{checkpoints.longest * 1000:.1f} ms (in a worker thread)"
            )
        for statement, seen in shown.most_common():
            print(f"{seen / n:6.2f}  {statement}")
        if profiler:
            pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(
                args.top
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--queue", type=int, default=0)
    parser.add_argument("--creates", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=1, help="creates in flight at once")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-engine", action="store_true", help="no dispatcher passes")
    parser.add_argument(
        "--engine-writes", action="store_true", help="the create's transaction on the engine"
    )
    parser.add_argument("--top", type=int, default=60)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
