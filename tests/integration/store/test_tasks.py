"""The store on real SQLite and PostgreSQL: migrations, keys, tasks, transitions, dispatch claims.

Every test takes ``database_url``, so it runs once per backend.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, inspect, select, update

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import ACTIVE_UPSTREAM_STATES, InvalidTransition, TaskState
from lumagate.domain.task import Task, TaskMedia
from lumagate.domain.tenant import ApiKey
from lumagate.engine.context import EngineContext
from lumagate.engine.dispatcher import CLAIM_BATCH, Dispatcher
from lumagate.engine.events import TaskEvents
from lumagate.engine.signals import EngineSignals
from lumagate.media.store import MediaStore
from lumagate.providers.base import Submission, UpstreamJob, UpstreamState
from lumagate.providers.registry import ProviderRegistry
from lumagate.security.crypto import SecretBox
from lumagate.security.keys import hash_api_key
from lumagate.service.idempotency import IdempotencyConflict
from lumagate.service.tasks import CreateCommand, TaskService
from lumagate.settings import Settings
from lumagate.store import migrate
from lumagate.store.accounts import AccountStore
from lumagate.store.database import Database
from lumagate.store.keys import KeyStore
from lumagate.store.pool import PoolStore
from lumagate.store.schema import api_keys, tasks
from lumagate.store.tasks import NewTask, TaskStore
from lumagate.store.unit_of_work import Transactions

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def new_task(tenant: str, *, channel: Channel = Channel.DEFAULT, prompt: str = "p") -> NewTask:
    return NewTask(
        id=str(uuid.uuid4()),
        tenant_id=tenant,
        channel=channel,
        dialect="reseller",
        request=GenerationRequest(prompt=prompt),
    )


async def insert(db: Database, new: NewTask, now: datetime) -> Task:
    async with Transactions(db).begin() as work:
        return await work.tasks.insert(new, now)


async def states_of(db: Database) -> dict[str, int]:
    return await TaskStore(db).count_by_state()


# -- migrations ---------------------------------------------------------------------------


async def test_migrations_apply_and_are_idempotent(empty_database_url: str) -> None:
    database = Database(empty_database_url)
    try:
        assert await migrate.current_revision(database) is None
        await migrate.upgrade(database)
        head = migrate.head_revision()
        assert await migrate.current_revision(database) == head
        await migrate.upgrade(database)  # again: a no-op, not an error
        await migrate.upgrade(database)
        assert await migrate.current_revision(database) == head

        async with database.read() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("tasks")}
            )
        assert {"api_keys", "accounts", "tasks", "alembic_version"} <= names
        assert {c.name for c in tasks.columns} == columns
        # The schema is usable after the repeated upgrades.
        key, _ = await KeyStore(database).create("after-migrate", utcnow())
        assert await KeyStore(database).get(key.id) == key
    finally:
        await database.dispose()


# -- keys ---------------------------------------------------------------------------------


async def _authenticate(keys: KeyStore, plaintext: str, now: datetime) -> ApiKey | None:
    """The usable key behind ``plaintext`` alone (the read every route makes, naming no task)."""
    key, task = await keys.authenticate_with_task(plaintext, "", now)
    assert task is None
    return key


async def test_key_create_and_authenticate_never_store_the_plaintext(db: Database) -> None:
    keys = KeyStore(db)
    now = utcnow()
    record, plaintext = await keys.create("alice", now, credits=100, channels=(Channel.VIP,))
    assert plaintext.startswith("sk-lg-")
    assert record.name == "alice" and record.credits == 100
    assert record.channels == (Channel.VIP,)
    assert record.prefix == plaintext[:10]

    async with db.read() as conn:
        row = (
            (await conn.execute(select(api_keys).where(api_keys.c.id == record.id)))
            .mappings()
            .one()
        )
    assert row["key_hash"] == hash_api_key(plaintext)
    secret_part = plaintext[len(record.prefix) :]
    for column, value in row.items():
        text = str(value)
        assert plaintext not in text, column
        assert secret_part not in text, column

    assert await _authenticate(keys, plaintext, now) == record
    assert await _authenticate(keys, plaintext + "x", now) is None
    assert await _authenticate(keys, plaintext[:-1], now) is None
    assert await _authenticate(keys, " " + plaintext, now) is None
    assert await _authenticate(keys, record.prefix, now) is None
    assert await _authenticate(keys, row["key_hash"], now) is None  # the digest is not a key


async def test_key_revoke(db: Database) -> None:
    keys = KeyStore(db)
    now = utcnow()
    record, plaintext = await keys.create("bob", now)
    other, other_plain = await keys.create("carol", now)
    assert await keys.revoke(record.id, now + timedelta(seconds=1))
    assert await _authenticate(keys, plaintext, now + timedelta(seconds=2)) is None
    assert not await keys.revoke(record.id, now + timedelta(seconds=3))  # already revoked
    assert not await keys.revoke(str(uuid.uuid4()), now)
    revoked = await keys.get(record.id)
    assert revoked is not None and revoked.revoked_at is not None
    assert await _authenticate(keys, other_plain, now) == other  # others unaffected


async def test_key_expiry(db: Database) -> None:
    keys = KeyStore(db)
    now = utcnow()
    _, expired = await keys.create(
        "old", now - timedelta(days=2), expires_at=now - timedelta(days=1)
    )
    valid_record, valid = await keys.create("new", now, expires_at=now + timedelta(hours=1))
    assert await _authenticate(keys, expired, now) is None
    assert await _authenticate(keys, valid, now) == valid_record
    assert await _authenticate(keys, valid, now + timedelta(hours=1)) is None  # expiry is exclusive
    assert await _authenticate(keys, valid, now + timedelta(hours=2)) is None


# -- tasks: reads -------------------------------------------------------------------------


async def test_insert_and_get_are_scoped_to_the_tenant(db: Database) -> None:
    store = TaskStore(db)
    new = new_task("tenant-a", channel=Channel.VIP, prompt="cat dance")
    created = await insert(db, new, T0)
    assert created.id == new.id
    assert created.state == TaskState.QUEUED
    assert created.channel == Channel.VIP
    assert created.request == new.request
    assert created.created_at == T0 == created.updated_at
    assert created.created_at.utcoffset() == timedelta(0)

    assert await store.get(new.id, "tenant-a") == created
    assert await store.get(new.id, "tenant-b") is None  # another tenant's id: nothing
    assert await store.get(new.id) == created  # the engine reads without a tenant
    assert await store.get(str(uuid.uuid4()), "tenant-a") is None


async def test_list_is_newest_first_with_paging(db: Database) -> None:
    store = TaskStore(db)
    mine = [await insert(db, new_task("me"), T0 + timedelta(seconds=i)) for i in range(7)]
    await insert(db, new_task("someone-else"), T0 + timedelta(seconds=100))
    newest_first = [t.id for t in reversed(mine)]

    page, more = await store.list_for_tenant("me", offset=0, limit=3)
    assert more
    assert [t.id for t in page] == newest_first[:3]
    page, more = await store.list_for_tenant("me", offset=3, limit=3)
    assert [t.id for t in page] == newest_first[3:6] and more
    page, more = await store.list_for_tenant("me", offset=6, limit=3)
    assert [t.id for t in page] == newest_first[6:] and not more
    page, more = await store.list_for_tenant("me", offset=7, limit=3)
    assert page == [] and not more
    page, more = await store.list_for_tenant("me", offset=4, limit=3)
    assert [t.id for t in page] == newest_first[4:7] and not more  # exactly the last page
    assert await store.list_for_tenant("nobody", offset=0, limit=10) == ([], False)


async def test_list_continues_by_keyset_after_a_task(db: Database) -> None:
    store = TaskStore(db)
    # Two tasks share a creation time: the id breaks the tie, so no task is skipped or repeated.
    times = [T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)]
    mine = [await insert(db, new_task("me"), at) for at in times]
    other = await insert(db, new_task("other"), T0 + timedelta(seconds=1))
    newest_first = [t.id for t in sorted(mine, key=lambda t: (t.created_at, t.id), reverse=True)]

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(len(mine)):
        page, more = await store.list_for_tenant("me", offset=0, limit=1, before=cursor)
        seen += [t.id for t in page]
        cursor = page[-1].id
        if not more:
            break
    assert seen == newest_first
    page, more = await store.list_for_tenant("me", offset=1, limit=2, before=newest_first[0])
    assert [t.id for t in page] == newest_first[2:4] and not more  # offset after the cursor
    # Another tenant's task is no cursor for me (as if it did not exist).
    assert await store.list_for_tenant("me", offset=0, limit=5, before=other.id) == ([], False)


async def test_get_many_keeps_order_and_drops_foreign_ids(db: Database) -> None:
    store = TaskStore(db)
    a, b, c = [await insert(db, new_task("me"), T0 + timedelta(seconds=i)) for i in range(3)]
    foreign = await insert(db, new_task("other"), T0)
    unknown = str(uuid.uuid4())
    found = await store.get_many([c.id, foreign.id, a.id, unknown, b.id, c.id], "me")
    assert [t.id for t in found] == [c.id, a.id, b.id]
    assert await store.get_many([], "me") == []
    assert [t.id for t in await store.get_many([foreign.id], "other")] == [foreign.id]


async def test_hide(db: Database) -> None:
    store = TaskStore(db)
    kept = await insert(db, new_task("me"), T0)
    hidden = await insert(db, new_task("me"), T0 + timedelta(seconds=1))
    assert not await store.hide(hidden.id, "other", T0)  # not theirs
    assert await store.hide(hidden.id, "me", T0 + timedelta(seconds=2))
    assert not await store.hide(hidden.id, "me", T0 + timedelta(seconds=3))  # already hidden
    assert await store.get(hidden.id, "me") is None
    assert await store.get(hidden.id) is not None  # still there for the engine
    assert await store.get_many([hidden.id, kept.id], "me") == [await store.get(kept.id)]
    page, more = await store.list_for_tenant("me", offset=0, limit=10)
    assert [t.id for t in page] == [kept.id] and not more


# -- tasks: transitions -------------------------------------------------------------------


async def test_transition_is_conditional_on_the_current_state(db: Database) -> None:
    store = TaskStore(db)
    task = await insert(db, new_task("me"), T0)
    t1 = T0 + timedelta(seconds=1)
    failed = await store.transition(task, TaskState.FAILED, t1, failure_reason="first")
    assert failed is not None
    assert failed.state == TaskState.FAILED
    assert failed.failure_reason == "first"
    assert failed.finished_at == t1
    # The stale copy still says QUEUED; the row does not, so nothing happens.
    again = await store.transition(task, TaskState.SUBMITTING, T0 + timedelta(seconds=2))
    assert again is None
    current = await store.get(task.id)
    assert current is not None and current.state == TaskState.FAILED
    assert current.failure_reason == "first"


async def test_two_racing_transitions_from_one_copy_only_one_wins(db: Database) -> None:
    store = TaskStore(db)
    task = await insert(db, new_task("me"), T0)
    results = await asyncio.gather(
        *(
            store.transition(task, TaskState.FAILED, T0, failure_reason=f"reason {i}")
            for i in range(6)
        )
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    stored = await store.get(task.id)
    assert stored is not None and stored.failure_reason == winners[0].failure_reason


async def test_forbidden_transition_raises_and_changes_nothing(db: Database) -> None:
    store = TaskStore(db)
    task = await insert(db, new_task("me"), T0)
    with pytest.raises(InvalidTransition):
        await store.transition(task, TaskState.COMPLETED, T0)
    with pytest.raises(InvalidTransition):
        await store.transition(task, TaskState.PROCESSING, T0)
    assert await store.get(task.id) == task


async def test_transition_path_to_completed_records_media(db: Database) -> None:
    store = TaskStore(db)
    task = await insert(db, new_task("me"), T0)
    async with Transactions(db).begin() as work:
        assert await work.tasks.claim(task, "acct", "me-1", T0 + timedelta(seconds=30), T0)
    claimed = await store.get(task.id)
    assert claimed is not None and claimed.state == TaskState.SUBMITTING
    assert claimed.account_id == "acct" and claimed.attempts == 1
    submitted = await store.transition(
        claimed, TaskState.SUBMITTED, T0 + timedelta(seconds=1), upstream_id="up-1"
    )
    assert submitted is not None and submitted.upstream_id == "up-1"
    processing = await store.transition(submitted, TaskState.PROCESSING, T0 + timedelta(seconds=2))
    assert processing is not None and processing.started_at == T0 + timedelta(seconds=2)
    media = TaskMedia(video="media:v.mp4", width=540, height=540, thumbnail="media:t.jpg")
    done = await store.transition(
        processing, TaskState.COMPLETED, T0 + timedelta(seconds=3), media=media
    )
    assert done is not None
    assert done.media == media
    assert done.progress == 100
    assert done.finished_at == T0 + timedelta(seconds=3)
    async with db.read() as conn:
        lease = (
            await conn.execute(select(tasks.c.lease_owner).where(tasks.c.id == task.id))
        ).scalar_one()
    assert lease is None


# -- idempotency --------------------------------------------------------------------------


@pytest.fixture
async def service(db: Database, tmp_path: Path) -> AsyncIterator[TaskService]:
    box = SecretBox(Fernet.generate_key())
    yield TaskService(
        TaskStore(db),
        AccountStore(db, box),
        MediaStore(tmp_path / "media", "http://127.0.0.1:8000"),
        transactions=Transactions(db),
        default_model="ray-2",
        max_image_bytes=1024,
    )


async def tenant(db: Database, name: str) -> ApiKey:
    key, _ = await KeyStore(db).create(name, utcnow())
    return key


async def test_idempotency_key_returns_the_first_task(db: Database, service: TaskService) -> None:
    alice = await tenant(db, "alice")
    bob = await tenant(db, "bob")
    command = CreateCommand(
        channel=Channel.DEFAULT, dialect="reseller", prompt="one", idempotency_key="k-1"
    )
    first = await service.create(alice, command)
    second = await service.create(alice, command)  # a replay of the same request
    assert second.id == first.id
    assert second.request.prompt == "one"
    changed = CreateCommand(
        channel=Channel.DEFAULT, dialect="reseller", prompt="two", idempotency_key="k-1"
    )
    with pytest.raises(IdempotencyConflict, match="different request body"):
        await service.create(alice, changed)  # the same key for another request: refused
    other_key = await service.create(alice, CreateCommand(Channel.DEFAULT, "reseller", "x"))
    assert other_key.id != first.id
    bobs = await service.create(bob, command)  # same key, other tenant: a new task
    assert bobs.id != first.id and bobs.tenant_id == bob.id
    assert (await states_of(db)) == {"queued": 3}


async def test_concurrent_creates_with_one_idempotency_key_make_one_task(
    db: Database, service: TaskService
) -> None:
    alice = await tenant(db, "alice")
    command = CreateCommand(
        channel=Channel.PRO, dialect="reseller", prompt="race", idempotency_key="same"
    )
    created = await asyncio.gather(*(service.create(alice, command) for _ in range(8)))
    assert len({t.id for t in created}) == 1
    assert (await states_of(db)) == {"queued": 1}


async def test_idempotency_key_older_than_a_day_makes_a_new_task(
    db: Database, service: TaskService
) -> None:
    alice = await tenant(db, "alice")
    old = NewTask(
        id=str(uuid.uuid4()),
        tenant_id=alice.id,
        channel=Channel.DEFAULT,
        dialect="reseller",
        request=GenerationRequest(prompt="yesterday"),
        idempotency_key="daily",
    )
    await insert(db, old, utcnow() - timedelta(hours=25))
    command = CreateCommand(Channel.DEFAULT, "reseller", "today", idempotency_key="daily")
    fresh = await service.create(alice, command)
    assert fresh.id != old.id
    assert fresh.request.prompt == "today"
    assert (await service.create(alice, command)).id == fresh.id  # and it is the one now


# -- dispatch -----------------------------------------------------------------------------


async def test_queue_order_is_priority_then_oldest(db: Database) -> None:
    store = TaskStore(db)
    plan = [
        (Channel.DEFAULT, 0),
        (Channel.PRO, 1),
        (Channel.VIP, 2),
        (Channel.DEFAULT, 3),
        (Channel.PRO, 4),
        (Channel.VIP, 5),
        (Channel.PRO, -5),  # oldest of all
    ]
    made = {}
    for channel, offset in plan:
        task = await insert(db, new_task("me", channel=channel), T0 + timedelta(seconds=offset))
        made[(channel, offset)] = task.id
    expected = [
        made[(Channel.PRO, -5)],
        made[(Channel.PRO, 1)],
        made[(Channel.PRO, 4)],
        made[(Channel.VIP, 2)],
        made[(Channel.VIP, 5)],
        made[(Channel.DEFAULT, 0)],
        made[(Channel.DEFAULT, 3)],
    ]
    now = T0 + timedelta(minutes=1)
    async with Transactions(db).begin() as work:
        order = [t.id for t in await work.tasks.queued_candidates(now, 100)]
        top_two = [t.id for t in await work.tasks.queued_candidates(now, 2)]
    assert order == expected
    assert top_two == expected[:2]
    for position, task_id in enumerate(expected):
        task = await store.get(task_id)
        assert task is not None
        assert await store.queue_position(task) == position


async def test_not_before_holds_a_task_back(db: Database) -> None:
    later = await insert(db, new_task("me", channel=Channel.PRO), T0)
    now_task = await insert(db, new_task("me"), T0 + timedelta(seconds=1))
    async with db.write() as conn:
        await conn.execute(
            update(tasks)
            .where(tasks.c.id == later.id)
            .values(not_before=T0 + timedelta(seconds=60))
        )
    async with Transactions(db).begin() as work:
        early = await work.tasks.queued_candidates(T0 + timedelta(seconds=30), 10)
        late = await work.tasks.queued_candidates(T0 + timedelta(seconds=61), 10)
    assert [t.id for t in early] == [now_task.id]
    assert [t.id for t in late] == [later.id, now_task.id]


class PendingProvider:
    """A provider that accepts everything and never finishes: accepted tasks hold their slot."""

    kind = "fake"

    def __init__(self) -> None:
        self.submitted: list[str] = []

    async def submit(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        self.submitted.append(submission.intent_id)
        await asyncio.sleep(0)
        return UpstreamJob(f"up-{submission.intent_id}", UpstreamState.PENDING, progress=0)

    async def close(self) -> None:
        return None


def dispatcher_for(
    db: Database, provider: PendingProvider, tmp_path: Path, name: str
) -> Dispatcher:
    box = SecretBox(Fernet.generate_key())
    ctx = EngineContext(
        settings=Settings(data_dir=tmp_path, lease_seconds=30),
        tasks=TaskStore(db),
        accounts=AccountStore(db, box),
        pool=PoolStore(db),
        transactions=Transactions(db),
        providers=ProviderRegistry(),
        signals=EngineSignals(),
        events=TaskEvents(),
        replica_id=name,
        single_node=False,
    )
    ctx.providers.register(provider)  # type: ignore[arg-type]
    return Dispatcher(ctx)


async def active_by_account(db: Database) -> dict[str, int]:
    async with db.read() as conn:
        rows = (
            await conn.execute(
                select(tasks.c.account_id, func.count())
                .where(tasks.c.state.in_([s.value for s in ACTIVE_UPSTREAM_STATES]))
                .group_by(tasks.c.account_id)
            )
        ).all()
    return {str(a): int(n) for a, n in rows}


async def test_concurrent_dispatch_never_exceeds_max_concurrency(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    # A second Database object on the same database stands for a second replica.
    replica_db = Database(database_url)
    provider = PendingProvider()
    dispatchers: Sequence[Dispatcher] = [
        dispatcher_for(db, provider, tmp_path, "replica-1"),
        dispatcher_for(replica_db, provider, tmp_path, "replica-2"),
    ]
    try:
        now = utcnow()
        accounts = AccountStore(db, SecretBox(Fernet.generate_key()))
        small = await accounts.create(name="small", kind="fake", now=now, max_concurrency=2)
        big = await accounts.create(name="big", kind="fake", now=now, max_concurrency=3)
        # More queued tasks than one pass looks at (CLAIM_BATCH), so concurrent passes see
        # disjoint candidates and only the account lock keeps them from over-claiming.
        queued = 2 * CLAIM_BATCH + 10
        async with Transactions(db).begin() as work:
            for i in range(queued):
                new = new_task("me", channel=Channel.VIP)
                await work.tasks.insert(new, now - timedelta(seconds=queued - i))

        for _ in range(3):  # several rounds of many concurrent passes from both replicas
            claimed = await asyncio.gather(*(dispatchers[i % 2].dispatch_once() for i in range(10)))
            for dispatcher in dispatchers:
                await dispatcher.drain(10)
            running = await active_by_account(db)
            assert running.get(small.id, 0) <= 2, running
            assert running.get(big.id, 0) <= 3, running
        assert running == {small.id: 2, big.id: 3}
        assert sum(claimed) == 0  # later rounds found everything full
        assert len(provider.submitted) == len(set(provider.submitted)) == 5
        assert (await states_of(db)) == {"queued": queued - 5, "submitted": 5}

        # Freeing one slot lets exactly one more through, even with racing passes.
        store = TaskStore(db)
        done = next(
            t
            for t in [await store.get(i) for i in provider.submitted]
            if t is not None and t.account_id == small.id
        )
        assert await store.transition(done, TaskState.FAILED, utcnow()) is not None
        claimed = await asyncio.gather(*(dispatchers[i % 2].dispatch_once() for i in range(6)))
        for dispatcher in dispatchers:
            await dispatcher.drain(10)
        assert sum(claimed) == 1
        assert await active_by_account(db) == {small.id: 2, big.id: 3}
    finally:
        await replica_db.dispose()


async def test_dispatch_claims_the_highest_priority_first(db: Database, tmp_path: Path) -> None:
    provider = PendingProvider()
    dispatcher = dispatcher_for(db, provider, tmp_path, "solo")
    now = utcnow()
    await AccountStore(db, SecretBox(Fernet.generate_key())).create(
        name="one", kind="fake", now=now, max_concurrency=1
    )
    default = await insert(db, new_task("me"), now - timedelta(seconds=30))
    vip = await insert(db, new_task("me", channel=Channel.VIP), now - timedelta(seconds=20))
    pro = await insert(db, new_task("me", channel=Channel.PRO), now - timedelta(seconds=10))
    order = []
    for task in (pro, vip, default):
        assert await dispatcher.dispatch_once() == 1
        await dispatcher.drain(10)
        order.append(provider.submitted[-1])
        assert await dispatcher.dispatch_once() == 0  # the one slot is taken
        claimed = await TaskStore(db).get(task.id)
        assert claimed is not None and claimed.state == TaskState.SUBMITTED
        await TaskStore(db).transition(claimed, TaskState.FAILED, utcnow())
    assert order == [pro.id, vip.id, default.id]
