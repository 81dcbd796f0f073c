"""The query plans of the hot statements: each is served by an index, never a scan or a sort of
a whole table, on SQLite and on PostgreSQL.

The statements are the ones the store really sends (captured from the engine while the store
method runs), explained with their real parameters on the same database. PostgreSQL is asked
with sequential scans and sorts discouraged (``enable_seqscan``/``enable_sort`` off): with a
few rows it would rightly scan, and what matters is whether an index *can* serve the statement
in the order it asks for; if none can, the plan still shows the scan or the sort.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event
from sqlalchemy.engine import Engine

from lumagate.domain.channels import Channel
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.security.crypto import SecretBox
from lumagate.security.keys import hash_api_key
from lumagate.store import migrate
from lumagate.store import tasks as task_queries
from lumagate.store.accounts import AccountStore
from lumagate.store.database import Database
from lumagate.store.deliveries import DeliveryStore
from lumagate.store.keys import KeyStore
from lumagate.store.ledger import LedgerStore
from lumagate.store.schema import tasks
from lumagate.store.task_admin import list_any_tenant
from lumagate.store.task_pages import TaskPageQuery
from lumagate.store.tasks import TaskStore
from lumagate.store.unit_of_work import Transactions

NOW = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
TABLES = ("tasks", "ledger", "deliveries")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrate.upgrade(database)
    await _seed(database)
    try:
        yield database
    finally:
        await database.dispose()


async def _seed(db: Database) -> None:
    """A few hundred tasks of two tenants in every state, so SQLite's planner has a choice."""
    states = [
        TaskState.QUEUED,
        TaskState.PROCESSING,
        TaskState.COMPLETED,
        TaskState.FAILED,
        TaskState.CANCELLED,
    ]
    rows = []
    for i in range(240):
        channel = list(Channel)[i % 3]
        state = states[i % 5]
        created = NOW - timedelta(hours=240 - i)
        rows.append(
            {
                "id": str(uuid.uuid4()),
                "tenant_id": "me" if i % 3 else "other",
                "channel": channel.value,
                "priority": channel.priority,
                "dialect": "reseller",
                "request": GenerationRequest(prompt=f"p{i}").model_dump(mode="json"),
                "state": state.value,
                "notify_url": "http://127.0.0.1:9/hook" if i % 5 == 0 else None,
                "created_at": created,
                "updated_at": created,
                "submitted_at": created,
                "finished_at": created + timedelta(minutes=5) if state.is_terminal else None,
                "deadline_at": created + timedelta(hours=2),
            }
        )
    async with db.write() as conn:
        await conn.execute(tasks.insert(), rows)


@contextmanager
def captured() -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT any engine sends while the block runs, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and not many:
            seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def plan_of(db: Database, statement: str, parameters: Any) -> list[str]:
    """The plan as lines: SQLite's EXPLAIN QUERY PLAN details, or PostgreSQL's plan nodes."""
    async with db.write() as conn:
        if db.is_sqlite:
            rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            return [str(row[3]) for row in rows]
        await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        await conn.exec_driver_sql("SET LOCAL enable_sort = off")
        rows = await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
        document = rows.scalar_one()
    lines: list[str] = []
    _walk(document[0]["Plan"] if isinstance(document, list) else document, lines)
    return lines


def _walk(node: dict[str, Any], lines: list[str]) -> None:
    parts = [node["Node Type"], node.get("Relation Name", ""), node.get("Index Name", "")]
    lines.append(" ".join(p for p in parts if p))
    for child in node.get("Plans", []):
        _walk(child, lines)


def assert_indexed(plan: list[str], index: str | None, *, sorts: bool = False) -> None:
    """No full scan of a core table, no sort (unless ``sorts``), and ``index`` in the plan."""
    text = "\n".join(plan)
    for table in TABLES:
        assert f"SCAN {table}" not in text and f"Seq Scan {table}" not in text, text
    if not sorts:
        assert "TEMP B-TREE" not in text and "Sort" not in plan_nodes(plan), text
    assert index is None or index in text, text


def plan_nodes(plan: list[str]) -> set[str]:
    return {line.split(" ")[0] for line in plan}


async def plans_while(db: Database, run: Callable[[], Awaitable[object]]) -> list[list[str]]:
    with captured() as seen:
        await run()
    assert seen, "the store sent no SELECT"
    return [await plan_of(db, statement, parameters) for statement, parameters in seen]


def pk(db: Database) -> str:
    return "sqlite_autoindex_tasks_1" if db.is_sqlite else "tasks_pkey"


async def test_dispatch_claim_walks_the_queue_in_index_order(db: Database) -> None:
    async def claim_read() -> None:
        async with Transactions(db).begin() as work:
            assert await work.tasks.queued_candidates(NOW, 64)

    (plan,) = await plans_while(db, claim_read)
    assert_indexed(plan, "ix_tasks_dispatch")


async def test_recent_run_time_reads_only_the_latest_completions(db: Database) -> None:
    store = TaskStore(db)
    (plan,) = await plans_while(db, store.recent_run_seconds)
    assert_indexed(plan, "ix_tasks_finished")


async def test_list_pages_by_offset_and_by_keyset_are_index_walks(db: Database) -> None:
    store = TaskStore(db)
    first, _ = await store.list_for_tenant("me", offset=0, limit=10)

    async def pages() -> None:
        await store.list_for_tenant("me", offset=50, limit=10)
        await store.list_for_tenant("me", offset=0, limit=10, before=first[-1].id)

    offset_page, cursor, keyset_page = await plans_while(db, pages)
    assert_indexed(offset_page, "ix_tasks_tenant_created")
    assert_indexed(cursor, pk(db))
    assert_indexed(keyset_page, "ix_tasks_tenant_created")


async def test_cursor_lists_in_both_orders_and_by_state_are_index_walks(db: Database) -> None:
    """``GET /v1/videos`` (either order) and the reseller list with ``state``: an index range
    after the cursor, no sort; and the rate-limit window's count reads the same index."""
    store = TaskStore(db)
    first, _ = await store.list_for_tenant("me", offset=0, limit=10)

    async def pages() -> None:
        for oldest_first in (False, True):
            await store.page(
                TaskPageQuery("me", limit=20, after=first[-1].id, oldest_first=oldest_first)
            )
        await store.page(TaskPageQuery("me", limit=20, states=(TaskState.FAILED,)))
        await store.creates_since("me", NOW - timedelta(seconds=60))

    cursor, desc, _cursor, asc, by_state, window = await plans_while(db, pages)
    assert_indexed(cursor, pk(db))
    for plan in (desc, asc, by_state):
        assert_indexed(plan, "ix_tasks_tenant_created")
    # An aggregate needs no order: PostgreSQL may take either tenant-led index on a small table.
    assert_indexed(window, None)


async def test_reads_by_id_use_the_primary_key(db: Database) -> None:
    store = TaskStore(db)
    ids, _ = await store.list_for_tenant("me", offset=0, limit=100)

    async def reads() -> None:
        assert len(await store.get_many([t.id for t in ids], "me")) == 100
        assert await store.get(ids[0].id, "me") is not None

    for plan in await plans_while(db, reads):
        assert_indexed(plan, pk(db))


async def test_catch_up_sweeps_read_from_their_watermark(db: Database) -> None:
    since = NOW - timedelta(hours=24)

    async def sweeps() -> None:
        await LedgerStore(db).unrefunded_failures(since=since)
        await DeliveryStore(db).missing_final(since)

    for plan in await plans_while(db, sweeps):
        assert_indexed(plan, "ix_tasks_finished")


async def test_in_memory_poll_schedule_reads_only_followed_tasks(db: Database) -> None:
    """SQLite's refresher (schedule in memory) reads the due stored polls of the running tasks
    through an index on the state (no sort: it asks for no order), then the due ones by key."""
    store = TaskStore(db)
    (stale,) = await plans_while(db, lambda: store.polls.stale(NOW))
    assert_indexed(stale, None)
    ids = [str(uuid.uuid4()) for _ in range(3)]
    (by_id,) = await plans_while(db, lambda: store.polls.followed(ids))
    assert_indexed(by_id, pk(db))


async def test_deadline_sweep_reads_only_unfinished_tasks_past_their_deadline(db: Database) -> None:
    """Through ``ix_tasks_deadline`` (state, deadline_at): the ended tasks of the history, whose
    deadlines have passed too, are never read; the order over the unfinished states may need a
    sort of the due tasks only."""
    store = TaskStore(db)
    (plan,) = await plans_while(db, lambda: store.ends.past_deadline(NOW, 100))
    assert_indexed(plan, "ix_tasks_deadline", sorts=True)


async def test_upstream_cancel_claim_reads_only_ended_tasks_due_a_cancel(db: Database) -> None:
    store = TaskStore(db)
    (plan, *_) = await plans_while(
        db, lambda: store.ends.claim_upstream_cancels(NOW, timedelta(seconds=30), limit=100)
    )
    assert_indexed(plan, None, sorts=True)


async def test_a_clients_get_reads_key_and_task_by_their_unique_indexes(db: Database) -> None:
    keys = KeyStore(db)
    _key, plaintext = await keys.create("plans", NOW)
    some_task = (await TaskStore(db).list_for_tenant("me", offset=0, limit=1))[0][0]
    with captured() as seen:  # the GET sends it on the raw driver (store/hot_read.py) ...
        assert (await keys.authenticate_with_task(plaintext, some_task.id, NOW))[0] is not None
    assert seen == []  # ... not through the engine; so explain the text the driver is sent
    values = {"task_id": some_task.id, "digest": hash_api_key(plaintext)}
    plan = await plan_of(db, keys.hot.sql, keys.hot.parameters(values))
    assert_indexed(plan, pk(db))
    text = "\n".join(plan)
    assert "SCAN api_keys" not in text and "Seq Scan api_keys" not in text, text
    assert ("api_keys" in text and "key_hash" in text) or "api_keys_key_hash" in text, text


async def test_an_upstream_callbacks_account_and_task_are_read_by_the_account_index(
    db: Database,
) -> None:
    """The callback's one read walks the (few) accounts and finds each one's task through
    ``ix_tasks_account_upstream``: never a scan of the tasks, however long the history."""
    store = AccountStore(db, SecretBox(Fernet.generate_key()))
    account = await store.create(name="plans", kind="luma-official", now=NOW)
    some_task = (await TaskStore(db).list_for_tenant("me", offset=0, limit=1))[0][0]
    async with db.write() as conn:
        await conn.execute(
            tasks.update()
            .where(tasks.c.id == some_task.id)
            .values(account_id=account.id, upstream_id="up-plans")
        )
    found: list[object] = []

    async def lookup() -> None:
        found.extend(await store.with_task_of("up-plans"))

    (plan,) = await plans_while(db, lookup)
    assert_indexed(plan, "ix_tasks_account_upstream")
    assert [(a.id, t.id) for a, _sealed, t in found] == [(account.id, some_task.id)]  # type: ignore[attr-defined]


async def test_the_wait_estimate_snapshot_walks_the_dispatch_index(db: Database) -> None:
    (plan,) = await plans_while(db, TaskStore(db).queued_order)
    assert_indexed(plan, "ix_tasks_dispatch")


async def test_admin_lists_walk_an_index_and_count_a_bounded_range(db: Database) -> None:
    async def lists() -> None:
        for tenant, state in ((None, None), (None, "failed"), ("me", None)):
            await list_any_tenant(db, tenant_id=tenant, state=state, offset=20, limit=10)

    with captured() as seen:
        await lists()
    assert len(seen) == 6  # a bounded count and a page for each list
    for statement, _parameters in seen[0::2]:  # the counts: a LIMITed walk of an index
        assert "count(" in statement and "LIMIT" in statement, statement
    pages = [await plan_of(db, statement, parameters) for statement, parameters in seen[1::2]]
    # Across tenants: a walk of ix_tasks_created in order, no sort. (By state alone the
    # planners sort that state's tasks: an operator's rare query, left so; see migration 0011.)
    text = "\n".join(pages[0])
    assert "ix_tasks_created" in text and "TEMP B-TREE" not in text, text
    assert "Sort" not in plan_nodes(pages[0]) and "Seq Scan tasks" not in text, text
    assert_indexed(pages[2], "ix_tasks_tenant_created")


async def test_admin_list_totals_stop_past_the_next_pages(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(task_queries, "COUNT_AHEAD", 5)
    found, total, capped = await list_any_tenant(db, tenant_id=None, state=None, offset=0, limit=10)
    assert len(found) == 10 and total == 15 and capped  # 240 tasks: counted only 16 of them
    _found, total, capped = await list_any_tenant(
        db, tenant_id=None, state="failed", offset=35, limit=10
    )
    # 240 tasks over five states: all 48 failed ones lie within the bound (35 + 10 + 5).
    assert total == 48 and not capped
