"""In-process timings of the hot store statements on a 1k and a 100k SQLite history.

Run: ``python -m bench.store_queries`` (seconds; independent of HTTP and server start-up, so
it shows what the queries themselves cost when the machine is too busy for the HTTP bench).
"""

import asyncio
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

from lumagate.domain.request import GenerationRequest
from lumagate.store import migrate
from lumagate.store.database import Database
from lumagate.store.ledger import LedgerStore
from lumagate.store.schema import tasks
from lumagate.store.tasks import TaskStore

NOW = datetime.now(UTC)


async def seed(db, n, queued):
    req = GenerationRequest(prompt="p").model_dump(mode="json")
    ids = []
    rows = []
    for i in range(n + queued):
        c = NOW - timedelta(seconds=(n + queued - i) * 20)
        st = "queued" if i >= n else ("completed" if i % 10 else "failed")
        tid = str(uuid.uuid4())
        ids.append((tid, st))
        rows.append(
            dict(
                id=tid,
                tenant_id="me",
                channel="default",
                priority=0,
                dialect="reseller",
                request=req,
                state=st,
                created_at=c,
                updated_at=c,
                submitted_at=c,
                finished_at=None if st == "queued" else c + timedelta(seconds=60),
            )
        )
        if len(rows) == 5000:
            async with db.write() as conn:
                await conn.execute(tasks.insert(), rows)
            rows = []
    if rows:
        async with db.write() as conn:
            await conn.execute(tasks.insert(), rows)
    return [t for t, s in ids if s != "queued"]


async def timed(fn, n=30):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)


async def measure(n):
    d = tempfile.mkdtemp()
    db = Database(f"sqlite+aiosqlite:///{d}/t.db")
    await migrate.upgrade(db)
    done = await seed(db, n, 2000)
    store = TaskStore(db)
    sample = random.Random(1).sample(done, 100)

    async def claim():
        try:
            from lumagate.store.unit_of_work import Transactions

            async with Transactions(db).begin() as work:
                await work.tasks.queued_candidates(NOW, 64)
        except ImportError:
            async with db.write() as conn:
                await store.queued_candidates(conn, NOW, 64)

    res = {
        "dispatch claim read (2k queued)": await timed(claim),
        "recent_run_seconds": await timed(store.recent_run_seconds),
        "list page offset 0": await timed(lambda: store.list_for_tenant("me", offset=0, limit=10)),
        "list page offset 900": await timed(
            lambda: store.list_for_tenant("me", offset=900, limit=10)
        ),
        "get_many 100 ids": await timed(lambda: store.get_many(sample, "me")),
        "refund sweep": await timed(
            lambda: LedgerStore(db).unrefunded_failures(
                **(
                    {"since": NOW - timedelta(minutes=6)}
                    if "since" in LedgerStore.unrefunded_failures.__code__.co_varnames
                    else {}
                )
            )
        ),
    }
    await db.dispose()
    return res


async def main():
    small, large = await measure(1000), await measure(100_000)
    for k in small:
        print(
            f"{k:<34} 1k {small[k]:8.2f} ms   100k {large[k]:8.2f} ms   "
            f"ratio {large[k] / small[k]:7.2f}x"
        )


asyncio.run(main())
